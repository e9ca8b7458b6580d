/// Why a sealed value did not open. Every case fails closed: no plaintext is returned.
/// Descriptions name the place, never the value.
public struct SealError: RekeyError, Sendable, Equatable {
    /// 1: the command ran and a stored value would not open.
    public var exitCode: Int32 { 1 }

    /// Why the value did not open.
    public enum Problem: Sendable, Equatable {
        /// Not of the form `enc:v1:<key>:<binding>:<length>:<base64>`.
        case malformed(String)
        /// Shorter than its recorded length: bytes were cut off.
        case truncated(expected: Int, actual: Int)
        /// Sealed with a key version that the key ring does not hold.
        case unknownKeyVersion(Int)
        /// Sealed for another table, column or row.
        case boundElsewhere
        /// The bytes, key or associated data do not authenticate: the value was altered.
        case authenticationFailed
    }

    /// Where the value was read from.
    public let binding: SecretBinding
    /// Why it did not open.
    public let problem: Problem

    /// `sealed value at TABLE.COLUMN row ROW …` and the reason.
    public var description: String {
        switch problem {
        case .malformed(let why): "sealed value at \(binding) is malformed: \(why)"
        case .truncated(let expected, let actual):
            "sealed value at \(binding) is truncated: \(actual) of \(expected) bytes"
        case .unknownKeyVersion(let version):
            "sealed value at \(binding) needs key version \(version), which the key ring does not hold"
        case .boundElsewhere:
            "sealed value at \(binding) was sealed for another row or column; refusing to open it"
        case .authenticationFailed:
            "sealed value at \(binding) failed authentication: it was altered or the key is wrong"
        }
    }
}
