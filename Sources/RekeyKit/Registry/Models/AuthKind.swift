/// How an integration authenticates to the partner's API.
public enum AuthKind: String, Sendable, CaseIterable, Codable {
    /// `password` and `api_token`: long-lived secrets; `oauth1`, `oauth2`: OAuth grants; `none`: no credential.
    case password, apiToken = "api_token", oauth1, oauth2, none

    /// Passwords and long-lived API tokens: what a leak lets an attacker use as is, indefinitely.
    public var isPlaintextClass: Bool { self == .password || self == .apiToken }
}
