import Curl
import Foundation
import Logging
import OAuth

/// A migration that stopped. The stored password is still in place and the installation is as it was.
public struct ReconnectError: Error, CustomStringConvertible, Sendable {
    public var installation: String
    public var step: ReconnectStep
    public var reason: String

    public var description: String {
        "reconnect \(installation) failed at step '\(step.rawValue)': \(reason). "
            + (step == .purge ? "The new tokens are stored; run reconnect again to finish." : "The stored password is untouched; run reconnect again when fixed.")
    }
}
