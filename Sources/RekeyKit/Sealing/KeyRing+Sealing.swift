import Foundation
import OpenSSLCrypto

/// Sealed values are self-describing text: `enc:v1:<keyVersion>:<binding>:<length>:<base64 iv|ciphertext|tag>`.
///
/// The key version, binding tag and length are in the clear so that a wrong key, a moved value or a
/// truncated value each get their own error; all of them are also in the AEAD associated data, so
/// editing any of them fails authentication.
extension KeyRing {
    static let sealPrefix = "enc:v1:"

    /// Seals `secret` under the active key for `binding`.
    public func seal(_ secret: Secret, for binding: SecretBinding) -> String {
        let key = active
        let box = AES256GCM.seal(
            secret.bytes, key: key.material,
            associatedData: Self.associatedData(version: key.version, binding: binding, length: secret.bytes.count))
        return "\(Self.sealPrefix)\(key.version):\(binding.tag):\(secret.bytes.count):\(Data(box).base64EncodedString())"
    }

    /// Opens a value sealed by `seal` for the same binding, or throws a `SealError` saying why not.
    public func open(_ sealed: String, for binding: SecretBinding) throws(SealError) -> Secret {
        let header = try Self.parse(sealed, binding: binding)
        guard let key = key(version: header.version) else {
            throw SealError(binding: binding, problem: .unknownKeyVersion(header.version))
        }
        guard header.tag == binding.tag else { throw SealError(binding: binding, problem: .boundElsewhere) }
        guard let plaintext = AES256GCM.open(
            header.box, key: key.material,
            associatedData: Self.associatedData(version: header.version, binding: binding, length: header.length))
        else { throw SealError(binding: binding, problem: .authenticationFailed) }
        return Secret(plaintext)
    }

    /// The key version a sealed value names, without opening it.
    public static func keyVersion(of sealed: String) -> Int? {
        guard sealed.hasPrefix(sealPrefix) else { return nil }
        return Int(sealed.dropFirst(sealPrefix.count).prefix { $0 != ":" })
    }

    private struct Header {
        var version: Int
        var tag: String
        var length: Int
        var box: [UInt8]
    }

    private static func parse(_ sealed: String, binding: SecretBinding) throws(SealError) -> Header {
        guard sealed.hasPrefix(sealPrefix) else {
            throw SealError(binding: binding, problem: .malformed("it does not start with \(sealPrefix)"))
        }
        // On UTF-8 bytes: `Character` splitting and counting cost more than the AES-GCM open itself.
        let fields = sealed.utf8.dropFirst(sealPrefix.utf8.count).split(separator: UInt8(ascii: ":"), maxSplits: 3, omittingEmptySubsequences: false)
        guard fields.count == 4, let version = Int(Substring(fields[0])), let length = Int(Substring(fields[2])), length >= 0,
              !fields[3].contains(UInt8(ascii: ":")) else {
            throw SealError(binding: binding, problem: .malformed("expected <key>:<binding>:<length>:<data> after \(sealPrefix)"))
        }
        let expected = AES256GCM.ivSize + length + AES256GCM.tagSize
        let encoded = fields[3]
        let expectedCharacters = (expected + 2) / 3 * 4
        guard encoded.count >= expectedCharacters else {
            throw SealError(binding: binding, problem: .truncated(expected: expected, actual: encoded.count * 3 / 4))
        }
        guard encoded.count == expectedCharacters, let box = Data(base64Encoded: Data(encoded)), box.count == expected else {
            throw SealError(binding: binding, problem: .malformed("the data is not \(expected) bytes of base64"))
        }
        return Header(version: version, tag: String(Substring(fields[1])), length: length, box: Array(box))
    }

    private static func associatedData(version: Int, binding: SecretBinding, length: Int) -> [UInt8] {
        Array("rekey/enc:v1\u{0}\(version)\u{0}\(binding.table)\u{0}\(binding.column)\u{0}\(binding.row)\u{0}\(length)".utf8)
    }
}
