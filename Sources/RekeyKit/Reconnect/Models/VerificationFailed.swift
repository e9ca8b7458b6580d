import Curl
import Foundation
import Logging
import OAuth

struct VerificationFailed: Error, CustomStringConvertible {
    var call: String
    var status: Int
    var expected: Int
    var description: String { "\(call) answered HTTP \(status), expected \(expected): the new tokens do not work" }
}
