import Curl
import Foundation
import Logging
import OAuth

/// Keeps OAuth 2.0 tokens fresh: refreshes due ones with rotation (the new refresh token replaces the old one
/// in one transaction), lets concurrent refreshes of one installation share a single token request, and
/// marks an installation "needs reconnect" after repeated `invalid_grant`. Also revokes.
public final class TokenKeeper: Sendable {
    let store: AppDatabase
    let keyRing: KeyRing
    let registry: Registry
    let http: CurlMulti
    let logger: Logger
    let resolve: @Sendable (SecretReference) -> String?
    let flights = SingleFlight<String, RefreshOutcome>()
    /// Consecutive `invalid_grant` failures before an installation needs reconnecting.
    public let invalidGrantLimit: Int

    /// `resolve` reads the registry's client credentials; `invalidGrantLimit` is 3 unless given. Token requests
    /// share `connections` keep-alive connections of one libcurl engine made here.
    public convenience init(store: AppDatabase, keyRing: KeyRing, registry: Registry, connections: Int = 4, logger: Logger,
                            resolve: @escaping @Sendable (SecretReference) -> String?, invalidGrantLimit: Int = 3) throws {
        self.init(store: store, keyRing: keyRing, registry: registry, http: try CurlMulti(maxConnections: connections), logger: logger,
                  resolve: resolve, invalidGrantLimit: invalidGrantLimit)
    }

    /// `init(store:keyRing:registry:connections:logger:resolve:invalidGrantLimit:)` over a given engine.
    init(store: AppDatabase, keyRing: KeyRing, registry: Registry, http: CurlMulti, logger: Logger,
         resolve: @escaping @Sendable (SecretReference) -> String?, invalidGrantLimit: Int = 3) {
        self.store = store
        self.keyRing = keyRing
        self.registry = registry
        self.http = http
        self.logger = logger
        self.resolve = resolve
        self.invalidGrantLimit = invalidGrantLimit
    }

    /// Refreshes every grant that expires within `window` seconds (every grant with `window` nil).
    public func refreshDue(within window: Double?) async throws -> [RefreshOutcome] {
        var outcomes: [RefreshOutcome] = []
        for id in try await store.grantsDueForRefresh(within: window) {
            outcomes.append(try await refresh(installation: id))
        }
        return outcomes
    }

    /// Refreshes one installation's tokens. Concurrent calls for the same installation share one request.
    public func refresh(installation id: String) async throws -> RefreshOutcome {
        try await flights.run(id) { try await self.performRefresh(id) }
    }

    private func performRefresh(_ id: String) async throws -> RefreshOutcome {
        guard try await store.claimRefresh(installation: id) != nil else {
            return RefreshOutcome(installation: id, outcome: .busy, error: "another process is refreshing it")
        }
        let (client, refreshToken) = try await clientAndRefreshToken(id)
        do {
            let response = try await client.refresh(refreshToken: refreshToken.exposedString)
            let tokens = GrantedTokens(protocolName: "oauth2", accessToken: Secret(response.accessToken),
                                       refreshToken: response.refreshToken.map(Secret.init), expiresAt: response.expiresAt, scope: response.scope)
            try await store.saveRefresh(installation: id, tokens: tokens, keyRing: keyRing)
            return RefreshOutcome(installation: id, outcome: .refreshed, expiresAt: response.expiresAt.map(AppDatabase.timestamp))
        } catch let error as OAuth2Error {
            let invalidGrant = error.code == "invalid_grant"
            let reason = invalidGrant && error.errorDescription?.localizedCaseInsensitiveContains("reuse") == true
                ? "the refresh token was rejected as reused (an old, rotated token): \(error)" : "\(error)"
            let marked = try await store.recordRefreshFailure(installation: id, error: reason, invalidGrant: invalidGrant, limit: invalidGrantLimit)
            logger.warning("token refresh failed", metadata: ["installation": "\(id)", "error": "\(reason)"])
            return RefreshOutcome(installation: id, outcome: marked ? .needsReconnect : .failed, error: reason)
        } catch {
            try await store.recordRefreshFailure(installation: id, error: "\(error)", invalidGrant: false)
            return RefreshOutcome(installation: id, outcome: .failed, error: "\(error)")
        }
    }

    /// Revokes the installation's tokens at the provider (RFC 7009) where it can, then deletes them.
    public func revoke(installation id: String) async throws -> [String] {
        guard let grant = try await store.grant(installation: id) else {
            throw InputError([Diagnostic(file: "installation", message: "installation \(id) has no OAuth grant")])
        }
        var revoked: [String] = []
        if grant.protocolName == "oauth2" {
            let (client, _) = try await clientAndRefreshToken(id, requireRefresh: false)
            let tokens = try await store.tokens(installation: id, keyRing: keyRing)
            revoked = try await client.revoke(access: tokens.access, refresh: tokens.refresh)
        }
        try await store.recordRevocation(installation: id)
        return revoked
    }

    private func clientAndRefreshToken(_ id: String, requireRefresh: Bool = true) async throws -> (OAuth2Client, Secret) {
        guard let installation = try await store.installation(id), let integration = registry.integration(installation.integration),
              let target = integration.migration?.oauth2 else {
            throw InputError([Diagnostic(file: "installation", message: "installation \(id) has no OAuth 2.0 integration in the registry")])
        }
        let client = try target.client(config: installation.config, http: http, resolve: resolve) { step, reason in
            ReconnectError(installation: id, step: step, reason: reason)
        }
        let refresh = try await store.tokens(installation: id, keyRing: keyRing).refresh
        if requireRefresh && refresh == nil {
            throw InputError([Diagnostic(file: "installation", message: "installation \(id) has no refresh token")])
        }
        return (client, refresh ?? Secret(""))
    }
}
