import COpenSSL

/// One-shot message digests and HMACs.
public enum Digest {
    public static func sha256(_ data: [UInt8]) -> [UInt8] { digest(data, EVP_sha256()) }
    public static func sha1(_ data: [UInt8]) -> [UInt8] { digest(data, EVP_sha1()) }

    public static func hmacSHA256(key: [UInt8], _ data: [UInt8]) -> [UInt8] { hmac(key, data, EVP_sha256()) }
    public static func hmacSHA1(key: [UInt8], _ data: [UInt8]) -> [UInt8] { hmac(key, data, EVP_sha1()) }

    /// Lowercase hexadecimal, two digits per byte.
    public static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Compares two byte strings in time independent of where they differ.
    public static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        return a.withUnsafeBytes { pa in b.withUnsafeBytes { pb in CRYPTO_memcmp(pa.baseAddress, pb.baseAddress, a.count) == 0 } }
    }

    private static func digest(_ data: [UInt8], _ md: OpaquePointer?) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let ok = EVP_Digest(data, data.count, &out, &length, md, nil)
        precondition(ok == 1, "EVP_Digest failed")
        return Array(out[0..<Int(length)])
    }

    private static func hmac(_ key: [UInt8], _ data: [UInt8], _ md: OpaquePointer?) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let result = key.withUnsafeBytes { k in
            HMAC(md, k.baseAddress, Int32(key.count), data, data.count, &out, &length)
        }
        precondition(result != nil, "HMAC failed")
        return Array(out[0..<Int(length)])
    }
}
