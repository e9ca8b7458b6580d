import COpenSSL

/// Cryptographically secure random bytes from libcrypto's DRBG.
public enum SecureRandom {
    /// Returns `count` random bytes. Traps if the system DRBG fails, since nothing safe can follow.
    public static func bytes(_ count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        guard count > 0 else { return out }
        let ok = out.withUnsafeMutableBufferPointer { RAND_bytes($0.baseAddress, Int32(count)) }
        precondition(ok == 1, "RAND_bytes failed: the system random generator is unavailable")
        return out
    }

    /// A string of `length` random ASCII letters and digits (as OAuth 1.0a nonces must be).
    public static func alphanumeric(_ length: Int) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)
        var result = [UInt8]()
        result.reserveCapacity(length)
        while result.count < length {
            for byte in bytes(length * 2) where byte < 248 && result.count < length {
                result.append(alphabet[Int(byte) % alphabet.count])  // 248 = 4 * 62: no modulo bias
            }
        }
        return String(decoding: result, as: UTF8.self)
    }
}
