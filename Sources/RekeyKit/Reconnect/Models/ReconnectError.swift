import Curl
import Foundation
import Logging
import OAuth

/// A migration that stopped. The stored password is still in place and the installation is as it was.
public struct ReconnectError: Error, CustomStringConvertible, Sendable {
    /// The installation's id.
    public var installation: String
    /// The step that failed.
    public var step: ReconnectStep
    /// What went wrong, for people; never a token or password.
    public var reason: String

    /// The step, the reason, and whether to run again (tokens stored after a failed purge; else nothing changed).
    public var description: String {
        "reconnect \(installation) failed at step '\(step.rawValue)': \(reason). "
            + (step == .purge ? "The new tokens are stored; run reconnect again to finish." : "The stored password is untouched; run reconnect again when fixed.")
    }
}
