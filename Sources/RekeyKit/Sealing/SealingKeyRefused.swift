/// A transaction that seals values found that the ring's active key may not seal in this store. Nothing was written.
public struct SealingKeyRefused: RekeyError, Sendable {
    /// 1: the command ran and its write was refused.
    public var exitCode: Int32 { 1 }

    /// Why the active key may not seal here.
    public enum Reason: Sendable, Equatable {
        /// `keys prune` retired the version while the command ran.
        case pruned
        /// The store recorded a different key check value for the version.
        case differsFromRecorded
    }

    /// The ring's active key version, the one refused.
    public let version: Int
    /// Why it was refused.
    public let reason: Reason

    /// What happened and what to do: run again after a prune, or point `--keys` at the right ring.
    public var description: String {
        switch reason {
        case .pruned:
            "key version \(version) was pruned from the key ring while this command ran (`rekey keys prune`); nothing was "
                + "written. Run the command again: it loads the ring afresh and seals with the active key"
        case .differsFromRecorded:
            "the key ring's key version \(version) is not the key the store recorded for that version (the key check "
                + "values differ); nothing was written. Point --keys (REKEY_KEYS) at the ring that goes with this store"
        }
    }
}
