/// The registry (`partners.yaml`): every partner, every integration, how each authenticates,
/// how it stores credentials, and where it can migrate to.
public struct Registry: Sendable {
    public var partners: [Partner]
    public var integrations: [Integration]

    public func partner(_ id: String) -> Partner? { partners.first { $0.id == id } }
    public func integration(_ id: String) -> Integration? { integrations.first { $0.id == id } }
}

/// How an integration authenticates to the partner's API.
public enum AuthKind: String, Sendable, CaseIterable, Codable {
    case password, apiToken = "api_token", oauth1, oauth2, none

    /// Passwords and long-lived API tokens: what a leak lets an attacker use as is, indefinitely.
    public var isPlaintextClass: Bool { self == .password || self == .apiToken }
}

/// How the product stores an integration's credentials.
public enum CredentialStorage: String, Sendable, CaseIterable, Codable {
    case plaintext, encrypted, none
}

/// Where a secret comes from: `env:NAME`, `file:PATH` or `store:NAME` (sealed in rekey's store).
public struct SecretReference: Sendable, Hashable, CustomStringConvertible {
    public enum Source: String, Sendable, CaseIterable { case env, file, store }
    public let source: Source
    public let name: String
    public var description: String { "\(source.rawValue):\(name)" }

    public init?(_ text: String) {
        guard let colon = text.firstIndex(of: ":"),
              let source = Source(rawValue: String(text[..<colon])),
              !text[text.index(after: colon)...].isEmpty
        else { return nil }
        self.source = source
        self.name = String(text[text.index(after: colon)...])
    }
}

public struct Contact: Sendable, Hashable, Codable {
    public var role: String
    public var name: String?
    public var email: String
}

public struct Partner: Sendable {
    public var id: String
    public var name: String
    public var contacts: [Contact]
    public var webhook: WebhookEndpoint?

    /// The contact with role `security`, or else the first one.
    public var securityContact: Contact? { contacts.first { $0.role == "security" } ?? contacts.first }
}

public struct WebhookEndpoint: Sendable {
    public static let knownEvents = ["credentials.exposed", "credentials.rotated", "integration.migrated", "incident.resolved"]
    public var url: String
    public var secret: SecretReference
    public var events: [String]
    /// Deliveries per second, when limited.
    public var rate: Double?
    /// Where `url` is in the registry file, for diagnostics.
    public var urlLine = 1
    public var urlColumn = 1
}

public struct Integration: Sendable {
    public var id: String
    public var name: String
    public var partner: String
    public var auth: AuthKind
    public var storage: CredentialStorage
    /// Non-secret per-installation settings, such as `base_url`.
    public var config: [String]
    /// Per-installation secret fields, such as `password`.
    public var secrets: [String]
    public var docs: String?
    public var migration: Migration?
}

/// How an installation moves off its stored credential.
public struct Migration: Sendable {
    public var target: MigrationTarget
    public var verify: VerifyCall

    /// The OAuth 1.0a settings, when that is the target.
    public var oauth1: OAuth1Target? { if case .oauth1(let target) = target { target } else { nil } }
    /// The OAuth 2.0 settings, when that is the target.
    public var oauth2: OAuth2Target? { if case .oauth2(let target) = target { target } else { nil } }
}

/// The protocol an installation migrates to, with its settings: only a valid pair can be built.
public enum MigrationTarget: Sendable {
    case oauth1(OAuth1Target)
    case oauth2(OAuth2Target)

    /// `oauth1` or `oauth2`, as in the registry.
    public var protocolName: String {
        switch self {
        case .oauth1: AuthKind.oauth1.rawValue
        case .oauth2: AuthKind.oauth2.rawValue
        }
    }
}

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

public struct OAuth2Target: Sendable {
    public var authorizationURL: String
    public var tokenURL: String
    public var scopes: [String]
    public var scopeSeparator: String
    public var authorizationParams: [String: String]
    public var tokenParams: [String: String]
    public var revocationURL: String?
    public var introspectionURL: String?
    /// The authorization server's issuer: its RFC 8414 metadata is fetched and `iss` checked (RFC 9207).
    public var issuer: String?
    public var deviceAuthorizationURL: String?
    public var accessibleResourcesURL: String?
    public var refreshTokenRotation: Bool
    public var clientID: SecretReference
    public var clientSecret: SecretReference?
}

/// The one API call that proves new credentials work before the old ones are purged.
public struct VerifyCall: Sendable {
    public var method: String
    public var url: String
    public var expectStatus: Int
}
