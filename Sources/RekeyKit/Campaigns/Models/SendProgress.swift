import Foundation
import Logging
import Mail

/// A snapshot for progress displays.
public struct SendProgress: Sendable {
    public var total: Int
    public var sent: Int
    public var failed: Int
    public var deferred: Int
    public var unknown: Int
    public var done: Int
    public var elapsed: Double
    /// Acceptances per second in this run.
    public var rate: Double
}
