import Curl
import Foundation
import Logging
import OAuth

/// Moves one installation off its stored password: authorize (OAuth 1.0a or 2.0, as the registry says),
/// seal the tokens, prove them with the registry's API call, and only then purge the password.
public struct Reconnector: Sendable {
    let store: AppDatabase
    let keyRing: KeyRing
    let registry: Registry
    let http: CurlMulti
    let logger: Logger
    let resolve: @Sendable (SecretReference) -> String?
    /// Shows the authorization URL to the user (prints it, opens a browser).
    let present: @Sendable (String) -> Void
    /// Asks the user for an OAuth 1.0a out-of-band verifier.
    let askVerifier: @Sendable () async -> String?

    /// `resolve` reads the registry's secret references (client and consumer credentials); `present` shows the
    /// authorization URL; `askVerifier` reads an OAuth 1.0a out-of-band verifier (nil: none was entered). The
    /// provider's endpoints are called through one libcurl engine made here.
    public init(store: AppDatabase, keyRing: KeyRing, registry: Registry, logger: Logger,
                resolve: @escaping @Sendable (SecretReference) -> String?, present: @escaping @Sendable (String) -> Void,
                askVerifier: @escaping @Sendable () async -> String? = { nil }) throws {
        self.init(store: store, keyRing: keyRing, registry: registry, http: try CurlMulti(maxConnections: 4), logger: logger,
                  resolve: resolve, present: present, askVerifier: askVerifier)
    }

    /// The public initializer over a given engine.
    init(store: AppDatabase, keyRing: KeyRing, registry: Registry, http: CurlMulti, logger: Logger,
         resolve: @escaping @Sendable (SecretReference) -> String?, present: @escaping @Sendable (String) -> Void,
         askVerifier: @escaping @Sendable () async -> String? = { nil }) {
        self.store = store
        self.keyRing = keyRing
        self.registry = registry
        self.http = http
        self.logger = logger
        self.resolve = resolve
        self.present = present
        self.askVerifier = askVerifier
    }

    /// Plans and, unless `options.dryRun`, runs the migration of installation `id`; an already migrated one is
    /// left alone (`.alreadyMigrated`). Waits for the user to authorize in a browser (or type a verifier).
    /// - Throws: `InputError` for an unknown installation; `ReconnectError` naming the step that failed, with the
    ///   stored password still in place (or, at `.purge`, the new tokens stored beside it).
    public func reconnect(_ id: String, options: ReconnectOptions) async throws -> ReconnectResult {
        func fail(_ step: ReconnectStep, _ reason: String) -> ReconnectError { ReconnectError(installation: id, step: step, reason: reason) }
        guard let installation = try await store.installation(id) else {
            throw InputError([Diagnostic(file: "installation", message: "no installation \(id); `rekey installations list` shows them")])
        }
        guard let integration = registry.integration(installation.integration), let migration = integration.migration else {
            throw fail(.plan, "the registry names no migration for \(installation.integration)")
        }
        let plan = self.plan(installation, integration, migration)
        var result = ReconnectResult(installation: id, integration: integration.id, customer: installation.customer,
                                     protocolName: migration.target.protocolName, outcome: .planned, steps: plan, purged: [], verifiedWith: nil, site: nil)
        if installation.state == .migrated {
            result.outcome = .alreadyMigrated
            return result
        }
        if options.dryRun { return result }

        // authorize and exchange
        var tokens: GrantedTokens
        var verify = migration.verify
        verify.url = expand(verify.url, installation.config)
        switch migration.target {
        case .oauth1(let target):
            tokens = try await authorizeOAuth1(target, installation, options: options, fail: fail)
        case .oauth2(let target):
            tokens = try await authorizeOAuth2(target, installation, options: options, fail: fail)
            if let resources = target.accessibleResourcesURL {
                let site = try await selectSite(resources, tokens: tokens, installation: installation, options: options, fail: fail)
                tokens.siteID = site.id
                tokens.siteURL = site.url
                result.site = site.url ?? site.id
            }
            var config = installation.config
            if let site = tokens.siteID { config["cloud_id"] = config["cloud_id"] ?? site }
            verify.url = expand(migration.verify.url, config)
        }

        // seal, verify, and only then purge
        do {
            try await store.storeTokens(tokens, installation: id, keyRing: keyRing)
        } catch {
            throw fail(.seal, "\(error)")
        }
        do {
            try await verifyTokens(tokens, call: verify, migration: migration, integration: integration, installation: installation)
        } catch {
            try await store.discardTokens(installation: id, reason: "verification failed")
            throw fail(.verify, "\(error)")
        }
        let call = "\(verify.method) \(verify.url)"
        do {
            result.purged = try await store.completeMigration(installation: id, verifiedWith: call)
        } catch {
            throw fail(.purge, "\(error)")
        }
        result.verifiedWith = call
        result.outcome = .migrated
        logger.notice("installation migrated", metadata: ["installation": "\(id)", "protocol": "\(migration.target.protocolName)"])
        return result
    }

    // MARK: Plan

    func plan(_ installation: InstallationRecord, _ integration: Integration, _ migration: Migration) -> [String] {
        var steps: [String] = []
        if let o = migration.oauth1 {
            steps.append("request temporary credentials: POST \(expand(o.requestTokenURL, installation.config)) (\(o.signatureMethod.rawValue), consumer key \(o.consumerKey))")
            steps.append("authorize: the user opens \(expand(o.authorizeURL, installation.config))?oauth_token=…")
            steps.append("exchange the verifier: POST \(expand(o.accessTokenURL, installation.config))")
        }
        if let o = migration.oauth2 {
            steps.append("authorize: the user opens \(expand(o.authorizationURL, installation.config)) (PKCE S256, scopes \(o.scopes.joined(separator: " ")))")
            steps.append("exchange the code: POST \(expand(o.tokenURL, installation.config))")
            if let resources = o.accessibleResourcesURL { steps.append("select the site from \(resources) by the installation's cloud_id or --site") }
        }
        steps.append("seal the tokens (key version \(keyRing.activeVersion))")
        steps.append("verify: \(migration.verify.method) \(expand(migration.verify.url, installation.config)) expecting \(migration.verify.expectStatus)")
        let fields = installation.secretFields.filter { !$0.hasPrefix("oauth.") }
        steps.append("purge: overwrite and delete \(fields.isEmpty ? "nothing (no stored secret)" : fields.joined(separator: ", ")); mark migrated")
        return steps
    }

    func expand(_ template: String, _ config: [String: String]) -> String { Migration.expand(template, config) }

    func required(_ reference: SecretReference?, _ what: String, fail: (ReconnectStep, String) -> ReconnectError) throws -> String {
        try Migration.required(reference, what, resolve: resolve, fail: fail)
    }

    // MARK: OAuth 1.0a

    func authorizeOAuth1(_ target: OAuth1Target, _ installation: InstallationRecord, options: ReconnectOptions,
                         fail: (ReconnectStep, String) -> ReconnectError) async throws -> GrantedTokens {
        let consumerKey = try required(target.consumerKey, "consumer key", fail: fail)
        let method: OAuth1SignatureMethod
        switch target.signatureMethod {
        case .rsaSHA1: method = .rsaSHA1(privateKeyPEM: try required(target.privateKey, "private key", fail: fail))
        case .hmacSHA1: method = .hmacSHA1(consumerSecret: try required(target.consumerSecret, "consumer secret", fail: fail))
        case .plaintext: method = .plaintext(consumerSecret: try required(target.consumerSecret, "consumer secret", fail: fail))
        }
        let client = OAuth1Client(consumerKey: consumerKey, signatureMethod: method,
                                  requestTokenURL: expand(target.requestTokenURL, installation.config),
                                  authorizeURL: expand(target.authorizeURL, installation.config),
                                  accessTokenURL: expand(target.accessTokenURL, installation.config), http: http)
        let listener = options.outOfBand ? nil : try LoopbackRedirectListener()
        defer { listener?.close() }
        let temporary: OAuth1Token
        do {
            temporary = try await client.requestTemporaryCredentials(callback: listener?.redirectURI ?? "oob")
        } catch {
            throw fail(.authorize, "requesting temporary credentials: \(error)")
        }
        present(client.authorizationURL(for: temporary))
        let verifier: String
        if let listener {
            let query: [String: String]
            do { query = try await listener.waitForRedirect(timeout: options.authorizationTimeout) } catch {
                throw fail(.authorize, "no authorization arrived: \(error)")
            }
            guard query["oauth_token"] == temporary.token else { throw fail(.authorize, "the callback is for another request token") }
            guard let value = query["oauth_verifier"], !value.isEmpty else { throw fail(.authorize, "the callback carries no oauth_verifier (denied?)") }
            verifier = value
        } else {
            guard let value = await askVerifier(), !value.isEmpty else { throw fail(.authorize, "no verifier was entered") }
            verifier = value
        }
        do {
            let token = try await client.requestTokenCredentials(temporary: temporary, verifier: verifier)
            return GrantedTokens(protocolName: "oauth1", accessToken: Secret(token.token), tokenSecret: Secret(token.secret))
        } catch {
            throw fail(.exchange, "\(error)")
        }
    }

    // MARK: OAuth 2.0

    func authorizeOAuth2(_ target: OAuth2Target, _ installation: InstallationRecord, options: ReconnectOptions,
                         fail: (ReconnectStep, String) -> ReconnectError) async throws -> GrantedTokens {
        var issuer: String?
        var requiresIss = false
        if let expected = target.issuer.map({ expand($0, installation.config) }) {
            do {
                let metadata = try await AuthorizationServerMetadata.discover(issuer: expected, http: http)
                issuer = metadata.issuer
                requiresIss = metadata.authorizationResponseIssParameterSupported
            } catch {
                throw fail(.plan, "discovering the authorization server \(expected): \(error)")
            }
        }
        let client = try target.client(config: installation.config, http: http, resolve: resolve, issuer: issuer,
                                       requiresIss: requiresIss, fail: fail)
        let listener = try LoopbackRedirectListener()
        defer { listener.close() }
        let request = try client.makeAuthorizationRequest(redirectURI: listener.redirectURI)
        present(request.url)
        let code: String
        do {
            let query = try await listener.waitForRedirect(timeout: options.authorizationTimeout)
            code = try client.handleRedirect(query: query, for: request)
        } catch {
            throw fail(.authorize, "\(error)")
        }
        do {
            let response = try await client.exchangeCode(code, for: request)
            return GrantedTokens(protocolName: "oauth2", accessToken: Secret(response.accessToken),
                                 refreshToken: response.refreshToken.map(Secret.init), expiresAt: response.expiresAt, scope: response.scope)
        } catch {
            throw fail(.exchange, "\(error)")
        }
    }

    /// Picks the site explicitly: by the installation's `cloud_id`, or `--site`; never "the first one".
    func selectSite(_ url: String, tokens: GrantedTokens, installation: InstallationRecord, options: ReconnectOptions,
                    fail: (ReconnectStep, String) -> ReconnectError) async throws -> (id: String, url: String?) {
        let request = HTTPRequest(method: "GET", url: url, headers: [("Authorization", "Bearer \(tokens.accessToken.exposedString)"), ("Accept", "application/json")])
        let sites: [(id: String, url: String?, name: String?)]
        do {
            let response = try await http.perform(request)
            guard response.status == 200, let list = try JSONSerialization.jsonObject(with: Data(response.body)) as? [[String: Any]] else {
                throw fail(.selectSite, "accessible resources answered HTTP \(response.status)")
            }
            sites = list.compactMap { site in (site["id"] as? String).map { ($0, site["url"] as? String, site["name"] as? String) } }
        } catch let error as ReconnectError {
            throw error
        } catch {
            throw fail(.selectSite, "\(error)")
        }
        let wanted = options.site ?? installation.config["cloud_id"] ?? installation.config["site"]
        let listed = sites.map { "\($0.id) (\($0.url ?? $0.name ?? "?"))" }.joined(separator: ", ")
        guard let wanted else {
            throw fail(.selectSite, "\(sites.count) sites are accessible and the installation names none; pass --site with one of: \(listed)")
        }
        guard let site = sites.first(where: { $0.id == wanted || $0.url == wanted }) else {
            throw fail(.selectSite, "the site \(wanted) is not among the accessible ones: \(listed)")
        }
        return (site.id, site.url)
    }

    // MARK: Verify

    func verifyTokens(_ tokens: GrantedTokens, call: VerifyCall, migration: Migration, integration: Integration,
                      installation: InstallationRecord) async throws {
        var request = HTTPRequest(method: call.method, url: call.url, headers: [("Accept", "application/json")])
        let response: HTTPResponse
        switch migration.target {
        case .oauth1(let target):
            let consumerKey = resolve(target.consumerKey) ?? ""
            let method: OAuth1SignatureMethod = switch target.signatureMethod {
            case .rsaSHA1: .rsaSHA1(privateKeyPEM: target.privateKey.flatMap(resolve) ?? "")
            case .hmacSHA1: .hmacSHA1(consumerSecret: target.consumerSecret.flatMap(resolve) ?? "")
            case .plaintext: .plaintext(consumerSecret: target.consumerSecret.flatMap(resolve) ?? "")
            }
            let client = OAuth1Client(consumerKey: consumerKey.trimmingCharacters(in: .whitespacesAndNewlines), signatureMethod: method,
                                      requestTokenURL: "", authorizeURL: "", accessTokenURL: "", http: http)
            response = try await client.perform(request, token: OAuth1Token(token: tokens.accessToken.exposedString,
                                                                             secret: tokens.tokenSecret?.exposedString ?? ""))
        case .oauth2:
            request.headers.append(("Authorization", "Bearer \(tokens.accessToken.exposedString)"))
            response = try await http.perform(request)
        }
        guard response.status == call.expectStatus else {
            throw VerificationFailed(call: "\(call.method) \(call.url)", status: response.status, expected: call.expectStatus)
        }
    }
}
