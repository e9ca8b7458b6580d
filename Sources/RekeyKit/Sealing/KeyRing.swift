import Foundation
#if canImport(Glibc)
import Glibc
#endif
import OpenSSLCrypto

/// The versioned AES-256-GCM keys that seal every secret in the store.
///
/// Stored as JSON in a file of mode 0600. Exactly one key is active: new values are sealed with it,
/// and older keys stay to open what they sealed until `rewrap` has moved everything on.
public struct KeyRing: Sendable {
    /// One 256-bit key of the ring; its bytes never leave RekeyKit.
    public struct Key: Sendable {
        /// The key's number, positive and unique in the ring; sealed values name it in the clear.
        public let version: Int
        let material: [UInt8]
        /// When the key was generated.
        public let created: Date

        /// A MAC of a constant under this key (as Vault and PKCS#11 key check values are): the store records it,
        /// so a ring whose key for a version differs from the one that sealed the store's values is refused.
        /// It reveals nothing about the key.
        public var checkValue: String {
            Digest.hex(Digest.hmacSHA256(key: material, Array("rekey key check value v1".utf8)))
        }
    }

    /// Every key in the ring, by version.
    public private(set) var keys: [Int: Key]
    /// The version of the key new values are sealed with; always one of `keys`.
    public private(set) var activeVersion: Int

    /// The key new values are sealed with.
    public var active: Key { keys[activeVersion]! }
    /// The ring's key versions, ascending.
    public var versions: [Int] { keys.keys.sorted() }

    /// A new ring holding one fresh random key, numbered one above `above` (a store's highest recorded
    /// version), so that a new ring never reuses a version number the store already knows.
    public static func generate(above: Int = 0, now: Date = Date()) -> KeyRing {
        let version = above + 1
        return KeyRing(keys: [version: Key(version: version, material: SecureRandom.bytes(AES256GCM.keySize), created: now)],
                       activeVersion: version)
    }

    /// Adds a fresh key one version above the highest in the ring (and above `above`, the store's highest
    /// recorded version) and makes it active.
    @discardableResult
    public mutating func rotate(above: Int = 0, now: Date = Date()) -> Int {
        let version = max(keys.keys.max() ?? 0, above) + 1
        keys[version] = Key(version: version, material: SecureRandom.bytes(AES256GCM.keySize), created: now)
        activeVersion = version
        return version
    }

    /// Removes retired keys (`keys prune`): whatever they sealed can no longer be opened. The active key stays.
    public mutating func remove(versions: [Int]) {
        for version in versions where version != activeVersion { keys[version] = nil }
    }

    func key(version: Int) -> Key? { keys[version] }
}

// MARK: - File format

extension KeyRing {
    private struct File: Codable {
        var format: String
        var active: Int
        var keys: [Entry]
        struct Entry: Codable {
            var version: Int
            var key: String
            var created: Date
        }
    }

    static let format = "rekey-keyring-v1"

    /// Reads and checks a key ring file: it must belong to the user running rekey, its mode must be 0600 or
    /// stricter and every key well formed.
    public static func load(from path: String) throws(KeyRingError) -> KeyRing {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw KeyRingError(path: path, problem: errno == ENOENT ? .missing : .unreadable(String(cString: strerror(errno))))
        }
        // Root can read anyone's file: a ring someone else owns could have been planted or swapped by them.
        guard info.st_uid == geteuid() else {
            throw KeyRingError(path: path, problem: .foreignOwner(owner: Int(info.st_uid), user: Int(geteuid())))
        }
        let mode = Int(info.st_mode) & 0o777
        guard mode & 0o077 == 0 else { throw KeyRingError(path: path, problem: .looseMode(mode)) }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw KeyRingError(path: path, problem: .unreadable("cannot read the file"))
        }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        guard let file = try? decoder.decode(File.self, from: data), file.format == format else {
            throw KeyRingError(path: path, problem: .malformed("not a \(format) JSON document"))
        }
        var keys: [Int: Key] = [:]
        for entry in file.keys {
            guard entry.version > 0 else { throw KeyRingError(path: path, problem: .malformed("key version \(entry.version) is not positive")) }
            guard keys[entry.version] == nil else { throw KeyRingError(path: path, problem: .malformed("key version \(entry.version) appears twice")) }
            guard let material = Data(base64Encoded: entry.key), material.count == AES256GCM.keySize else {
                throw KeyRingError(path: path, problem: .malformed("key version \(entry.version) is not 32 bytes of base64"))
            }
            keys[entry.version] = Key(version: entry.version, material: Array(material), created: entry.created)
        }
        guard keys[file.active] != nil else {
            throw KeyRingError(path: path, problem: .malformed("the active version \(file.active) has no key"))
        }
        return KeyRing(keys: keys, activeVersion: file.active)
    }

    /// Writes the ring atomically: a new file created with mode 0600, synced, then renamed over the old one.
    public func save(to path: String) throws(KeyRingError) {
        let file = File(format: Self.format, active: activeVersion, keys: versions.map {
            let key = keys[$0]!
            return .init(version: key.version, key: Data(key.material).base64EncodedString(), created: key.created)
        })
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data: Data
        do { data = try encoder.encode(file) } catch { throw KeyRingError(path: path, problem: .unwritable("encoding failed")) }
        do {
            try PrivateFile.write(data, to: path, replacing: true)
        } catch {
            throw KeyRingError(path: path, problem: .unwritable(error.reason))
        }
    }
}
