import Curl
import Foundation
import Logging
import OAuth

/// What `reconnect` did (`migrated`, or `already-migrated` when there was nothing to do), or would do (`planned`,
/// with `--dry-run`).
public enum ReconnectOutcome: String, Sendable, Codable {
    case migrated
    case alreadyMigrated = "already-migrated"
    case planned
}
