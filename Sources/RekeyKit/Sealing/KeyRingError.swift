/// Why a key ring could not be used. rekey refuses to start rather than run on a doubtful ring.
public struct KeyRingError: RekeyError, Sendable {
    /// 2: rekey refuses the ring; nothing was changed.
    public var exitCode: Int32 { 2 }

    /// What is wrong with the ring.
    public enum Problem: Sendable, Equatable {
        /// No file at the path (`rekey init` creates one).
        case missing
        /// The file's permission bits (e.g. `0o644`) let its group or others in; it must be 0600 or stricter.
        case looseMode(Int)
        /// The file belongs to another user than the one running rekey.
        case foreignOwner(owner: Int, user: Int)
        /// Not a well-formed ring file; the text says what is wrong (never a key).
        case malformed(String)
        /// The file exists but cannot be read; the text says why (`strerror`).
        case unreadable(String)
        /// The ring or its lock file cannot be written; the text says why.
        case unwritable(String)
        /// The ring's key for `version` is not the key whose check value the store recorded.
        case doesNotMatchStore(version: Int)
        /// The store has `values` sealed under `version`, which the ring does not hold.
        case lacksVersion(version: Int, values: Int)
        /// `init` found no ring, but the store holds values a new ring could never open.
        case storeHasSealedValues(values: Int, versions: [Int])
        /// Another rekey process held the ring's lock for too long.
        case busy
    }

    /// The key ring file's path.
    public let path: String
    /// What is wrong with it.
    public let problem: Problem

    /// Creates an error for the ring at `path`.
    public init(path: String, problem: Problem) {
        self.path = path
        self.problem = problem
    }

    /// What is wrong and what to do about it (`rekey init`, `chmod 600`, `--keys`); never shows a key.
    public var description: String {
        switch problem {
        case .missing:
            "no key ring at \(path); run `rekey init` to create one"
        case .looseMode(let mode):
            "key ring \(path) has mode \(String(mode, radix: 8)); it must be readable by its owner only (chmod 600 \(path))"
        case .foreignOwner(let owner, let user):
            "key ring \(path) belongs to user \(owner), not to the user running rekey (\(user)); refusing a ring another user "
                + "could have written (chown it, or run rekey as its owner)"
        case .malformed(let why):
            "key ring \(path) is malformed: \(why)"
        case .unreadable(let why):
            "key ring \(path) cannot be read: \(why)"
        case .unwritable(let why):
            "key ring \(path) cannot be written: \(why)"
        case .doesNotMatchStore(let version):
            "key ring \(path) does not match the store: its key version \(version) is not the key that the store "
                + "recorded for that version (the key check values differ). Point --keys (REKEY_KEYS) at the ring that goes "
                + "with this store; nothing was changed"
        case .lacksVersion(let version, let values):
            "key ring \(path) lacks key version \(version), which seals \(values) values in the store. Point --keys "
                + "(REKEY_KEYS) at the ring that goes with this store; nothing was changed"
        case .storeHasSealedValues(let values, let versions):
            "no key ring at \(path), but the store holds \(values) values sealed under key "
                + (versions.count == 1 ? "version " : "versions ") + versions.map(String.init).joined(separator: ", ")
                + ": a new ring could never open them. Point --keys (REKEY_KEYS) at the ring that sealed them; "
                + "no ring was created"
        case .busy:
            "key ring \(path) is being changed by another rekey process (its lock \(path).lock is held); try again"
        }
    }
}
