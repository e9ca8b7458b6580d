import COpenSSL

/// RSA PKCS#1 v1.5 signatures over SHA-1, as OAuth 1.0a's RSA-SHA1 method requires.
public enum RSASHA1 {
    public struct KeyError: Error, CustomStringConvertible {
        public var description: String { "the RSA private key could not be read (expected a PEM private key)" }
    }

    /// Signs `message` with a PEM-encoded private key (PKCS#1 or PKCS#8).
    public static func sign(_ message: [UInt8], privateKeyPEM: String) throws -> [UInt8] {
        var signature = [UInt8](repeating: 0, count: 1024)
        var length = signature.count
        let pem = Array(privateKeyPEM.utf8)
        let ok = pem.withUnsafeBufferPointer { p in
            p.withMemoryRebound(to: CChar.self) {
                copenssl_rsa_sha1_sign($0.baseAddress, pem.count, message, message.count, &signature, &length)
            }
        }
        guard ok == 1 else { throw KeyError() }
        return Array(signature[0..<length])
    }

    /// Verifies with a PEM-encoded public key (`BEGIN PUBLIC KEY`).
    public static func verify(_ signature: [UInt8], for message: [UInt8], publicKeyPEM: String) -> Bool {
        let pem = Array(publicKeyPEM.utf8)
        return pem.withUnsafeBufferPointer { p in
            p.withMemoryRebound(to: CChar.self) {
                copenssl_rsa_sha1_verify($0.baseAddress, pem.count, message, message.count, signature, signature.count) == 1
            }
        }
    }
}
