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

/// The tokens work, but for another account than the registry's `expect_account` names.
public struct WrongAccount: Error, CustomStringConvertible, Sendable {
    /// The account expected.
    public var expected: String
    /// The account that authorized, as the verify call named it.
    public var authorized: String?
    /// Names both accounts.
    public var description: String {
        "authorized as \(authorized ?? "an unnamed account"), but the registry expects \(expected); the password is kept"
    }
}
