/// A plaintext secret in memory. It never prints itself: `description`, `debugDescription`
/// and string interpolation all show `<redacted>`, so a secret cannot leak through a log or an error.
public struct Secret: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The secret's bytes, usually UTF-8 text.
    public let bytes: [UInt8]

    /// Wraps raw bytes.
    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    /// Wraps a string's UTF-8 bytes.
    public init(_ string: String) { self.bytes = Array(string.utf8) }

    /// The secret as UTF-8 text, for the one place that must send it.
    public var exposedString: String { String(decoding: bytes, as: UTF8.self) }
    /// Whether the secret has zero bytes (whitespace counts as content).
    public var isEmpty: Bool { bytes.isEmpty }

    /// Always `<redacted>`.
    public var description: String { "<redacted>" }
    /// Always `<redacted>`.
    public var debugDescription: String { "<redacted>" }
}
