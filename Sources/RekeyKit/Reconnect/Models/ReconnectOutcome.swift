import Curl
import Foundation
import Logging
import OAuth

/// What `reconnect` did (`migrated`, or `already-migrated` when there was nothing to do), or would do (`planned`,
/// with `--dry-run`).
public enum ReconnectOutcome: String, Sendable, Codable {
    /// Tokens stored and verified, the old credential purged.
    case migrated
    /// The installation was migrated before; nothing was done.
    case alreadyMigrated = "already-migrated"
    /// `--dry-run`: only the plan was made.
    case planned
}
