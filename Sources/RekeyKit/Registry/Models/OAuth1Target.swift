public struct OAuth1Target: Sendable {
    public enum SignatureMethod: String, Sendable, CaseIterable { case rsaSHA1 = "RSA-SHA1", hmacSHA1 = "HMAC-SHA1", plaintext = "PLAINTEXT" }
    public var signatureMethod: SignatureMethod
    public var requestTokenURL: String
    public var authorizeURL: String
    public var accessTokenURL: String
    public var consumerKey: SecretReference
    public var privateKey: SecretReference?
    public var consumerSecret: SecretReference?
}
