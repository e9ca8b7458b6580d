import COpenSSL

/// AES-256-GCM with a random 96-bit IV and a 128-bit tag.
public enum AES256GCM {
    public static let keySize = 32
    public static let ivSize = 12
    public static let tagSize = 16

    /// A sealed box: `iv || ciphertext || tag`.
    public static func seal(_ plaintext: [UInt8], key: [UInt8], associatedData: [UInt8]) -> [UInt8] {
        precondition(key.count == keySize, "AES-256-GCM needs a 32-byte key")
        let iv = SecureRandom.bytes(ivSize)
        var ciphertext = [UInt8](repeating: 0, count: plaintext.count)
        var tag = [UInt8](repeating: 0, count: tagSize)
        let ok = copenssl_aes256gcm_seal(
            key, iv, associatedData, associatedData.count, plaintext, plaintext.count, &ciphertext, &tag)
        precondition(ok == 1, "AES-256-GCM encryption failed inside libcrypto")
        return iv + ciphertext + tag
    }

    /// Opens a box made by `seal`. Returns nil when the box, key or associated data do not authenticate.
    public static func open(_ box: [UInt8], key: [UInt8], associatedData: [UInt8]) -> [UInt8]? {
        guard key.count == keySize, box.count >= ivSize + tagSize else { return nil }
        let iv = Array(box[0..<ivSize])
        let ciphertext = Array(box[ivSize..<(box.count - tagSize)])
        let tag = Array(box[(box.count - tagSize)...])
        var plaintext = [UInt8](repeating: 0, count: ciphertext.count)
        let ok = copenssl_aes256gcm_open(
            key, iv, associatedData, associatedData.count, ciphertext, ciphertext.count, tag, &plaintext)
        return ok == 1 ? plaintext : nil
    }
}
