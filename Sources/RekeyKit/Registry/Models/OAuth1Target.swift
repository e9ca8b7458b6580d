/// The registry's `oauth1` block: an OAuth 1.0a provider's endpoints and consumer credentials. URLs may start
/// with a config placeholder such as `{base_url}`.
public struct OAuth1Target: Sendable {
    /// `signature_method`, as the registry spells it: RSA-SHA1 needs `private_key`, the others `consumer_secret`.
    public enum SignatureMethod: String, Sendable, CaseIterable { case rsaSHA1 = "RSA-SHA1", hmacSHA1 = "HMAC-SHA1", plaintext = "PLAINTEXT" }
    /// How requests are signed.
    public var signatureMethod: SignatureMethod
    /// Where temporary credentials are requested (`request_token_url`).
    public var requestTokenURL: String
    /// The page the user opens to authorize the temporary token (`authorize_url`).
    public var authorizeURL: String
    /// Where the verifier is exchanged for token credentials (`access_token_url`).
    public var accessTokenURL: String
    /// Where the consumer key comes from.
    public var consumerKey: SecretReference
    /// Where the RSA private key (PEM) comes from; required with RSA-SHA1.
    public var privateKey: SecretReference?
    /// Where the consumer secret comes from; required with HMAC-SHA1 and PLAINTEXT.
    public var consumerSecret: SecretReference?
}
