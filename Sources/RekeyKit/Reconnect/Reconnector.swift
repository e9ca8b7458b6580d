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
    /// The templates folder, for the `integration.migrated` webhook payload; nil queues none.
    let templates: String?

    /// `resolve` reads the registry's secret references (client and consumer credentials); `present` shows the
    /// authorization URL; `askVerifier` reads an OAuth 1.0a out-of-band verifier (nil: none was entered). The
    /// provider's endpoints are called through one libcurl engine made here. With `templates`, a migration queues
    /// `integration.migrated` to the partner's webhook.
    public init(store: AppDatabase, keyRing: KeyRing, registry: Registry, logger: Logger, templates: String? = nil,
                resolve: @escaping @Sendable (SecretReference) -> String?, present: @escaping @Sendable (String) -> Void = { _ in },
                askVerifier: @escaping @Sendable () async -> String? = { nil }) throws {
        self.init(store: store, keyRing: keyRing, registry: registry, http: try CurlMulti(maxConnections: 4), logger: logger,
                  templates: templates, resolve: resolve, present: present, askVerifier: askVerifier)
    }

    /// The public initializer over a given engine.
    init(store: AppDatabase, keyRing: KeyRing, registry: Registry, http: CurlMulti, logger: Logger, templates: String? = nil,
         resolve: @escaping @Sendable (SecretReference) -> String?, present: @escaping @Sendable (String) -> Void,
         askVerifier: @escaping @Sendable () async -> String? = { nil }) {
        self.templates = templates
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
        try store.discardInterruptedAttempts(logger: logger)
        let subject = try await prepare(id)
        if subject.result.outcome == .alreadyMigrated || options.dryRun { return subject.result }
        let tokens: GrantedTokens
        switch subject.migration.target {
        case .oauth1(let target):
            tokens = try await authorizeOAuth1(target, subject.installation, options: options, fail: fail)
        case .oauth2(let target):
            tokens = try await authorizeOAuth2(target, subject.installation, options: options, fail: fail)
        }
        return try await complete(subject, tokens: tokens, site: options.site)
    }

    /// What a migration works on: the installation, its integration and migration, and the planned result.
    struct Subject: Sendable {
        var installation: InstallationRecord
        var integration: Integration
        var migration: Migration
        var result: ReconnectResult
    }

    /// Finds the installation and its migration; the result is `.planned`, or `.alreadyMigrated`.
    func prepare(_ id: String) async throws -> Subject {
        guard let installation = try await store.installation(id) else {
            throw InputError([Diagnostic(file: "installation", message: "no installation \(id); `rekey installations list` shows them")])
        }
        guard let integration = registry.integration(installation.integration), let migration = integration.migration else {
            throw ReconnectError(installation: id, step: .plan, reason: "the registry names no migration for \(installation.integration)")
        }
        var result = ReconnectResult(installation: id, integration: integration.id, customer: installation.customer,
                                     protocolName: migration.target.protocolName, outcome: .planned,
                                     steps: plan(installation, integration, migration), purged: [], verifiedWith: nil, site: nil)
        if installation.state == .migrated { result.outcome = .alreadyMigrated }
        return Subject(installation: installation, integration: integration, migration: migration, result: result)
    }

    /// The steps after authorization, the same for `rekey reconnect` and the web flow: choose the installation's own
    /// site, seal, verify (as the expected account, where the registry names one), and only then purge the password.
    /// A failure records the step in the installation's progress, discards the new tokens and keeps the password.
    func complete(_ subject: Subject, tokens granted: GrantedTokens, site: String?) async throws -> ReconnectResult {
        let id = subject.installation.id
        func fail(_ step: ReconnectStep, _ reason: String) -> ReconnectError { ReconnectError(installation: id, step: step, reason: reason) }
        do {
            return try await completeSteps(subject, tokens: granted, site: site, fail: fail)
        } catch let error as ReconnectError {
            try? await store.recordReconnectFailure(installation: id, step: error.step)
            throw error
        }
    }

    private func completeSteps(_ subject: Subject, tokens granted: GrantedTokens, site: String?,
                               fail: (ReconnectStep, String) -> ReconnectError) async throws -> ReconnectResult {
        let (installation, migration) = (subject.installation, subject.migration)
        let id = installation.id
        var result = subject.result
        var tokens = granted
        var verify = migration.verify
        verify.url = expand(verify.url, installation.config)
        if case .oauth2(let target) = migration.target {
            if let resources = target.accessibleResourcesURL {
                let chosen = try await selectSite(resources, tokens: tokens, installation: installation, site: site, fail: fail)
                tokens.siteID = chosen.id
                tokens.siteURL = chosen.url
                result.site = chosen.url ?? chosen.id
            }
            var config = installation.config
            if let site = tokens.siteID { config["cloud_id"] = config["cloud_id"] ?? site }
            verify.url = expand(migration.verify.url, config)
        }

        // seal, verify, and only then purge
        do {
            try await store.storeTokens(tokens, installation: id, keyRing: keyRing, attempt: ProcessInfo.processInfo.processIdentifier)
        } catch let taken as MigrationTaken {
            // Another process got there first: these tokens are not stored, so they are revoked where the provider can.
            logger.notice("reconnect lost to another process", metadata: ["installation": "\(id)", "why": "\(taken)"])
            await revokeUnstored(tokens, subject)
            guard taken.reason == .migrated else { throw fail(.seal, taken.description) }
            result.outcome = .alreadyMigrated
            return result
        } catch {
            throw fail(.seal, "\(error)")
        }
        let account: String?
        do {
            account = try await verifyTokens(tokens, call: verify, migration: migration, integration: subject.integration, installation: installation)
        } catch {
            try await store.discardTokens(installation: id, reason: "verification failed")
            throw fail(.verify, "\(error)")
        }
        let call = "\(verify.method) \(verify.url)"
        do {
            result.purged = try await store.completeMigration(installation: id, verifiedWith: call, account: account)
        } catch {
            throw fail(.purge, "\(error)")
        }
        result.verifiedWith = call
        result.account = account
        result.outcome = .migrated
        logger.notice("installation migrated", metadata: ["installation": "\(id)", "protocol": "\(migration.target.protocolName)"])
        await announceMigration(subject)
        return result
    }

    /// Revokes tokens that were granted but never stored (RFC 7009), where the integration's OAuth 2.0 provider has a
    /// revocation endpoint; a failure is logged. OAuth 1.0a has no revocation call.
    func revokeUnstored(_ tokens: GrantedTokens, _ subject: Subject) async {
        guard case .oauth2(let target) = subject.migration.target, target.revocationURL != nil else { return }
        let id = subject.installation.id
        do {
            let client = try await oauth2Client(target, subject.installation) { ReconnectError(installation: id, step: $0, reason: $1) }
            _ = try await client.revoke(access: tokens.accessToken, refresh: tokens.refreshToken)
        } catch {
            logger.warning("could not revoke tokens that were not stored", metadata: ["installation": "\(id)", "error": "\(error)"])
        }
    }

    /// Queues `integration.migrated` to the partner's webhook, when it subscribes to it; a problem is logged, not thrown
    /// (the migration is done).
    func announceMigration(_ subject: Subject) async {
        guard let partner = registry.partner(subject.integration.partner), let endpoint = partner.webhook,
              endpoint.events.contains("integration.migrated"), let templates else { return }
        do {
            let template = try WebhookTemplate.load(event: "integration.migrated", from: templates)
            let data: [String: String] = ["installation": subject.installation.id, "integration": subject.integration.id,
                                          "customer": subject.installation.customer, "protocol": subject.migration.target.protocolName]
            let text = String(decoding: try JSONSerialization.data(withJSONObject: data, options: [.sortedKeys]), as: UTF8.self)
            let rendered = await template.renderPayloads(for: [partner], registry: registry, data: text,
                                                        timestamp: AppDatabase.timestamp(Date()))
            guard rendered.problems.isEmpty else { throw InputError(rendered.problems) }
            _ = try await store.enqueueWebhooks(event: "integration.migrated", bodies: rendered.bodies,
                                                idempotencyKey: "integration.migrated:\(subject.installation.id)")
        } catch {
            logger.error("could not queue integration.migrated", metadata: ["installation": "\(subject.installation.id)", "error": "\(error)"])
        }
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

    /// The installation's OAuth 1.0a client, its endpoints expanded and its consumer credentials resolved.
    func oauth1Client(_ target: OAuth1Target, _ installation: InstallationRecord,
                      fail: (ReconnectStep, String) -> ReconnectError) throws -> OAuth1Client {
        let consumerKey = try required(target.consumerKey, "consumer key", fail: fail)
        let method: OAuth1SignatureMethod
        switch target.signatureMethod {
        case .rsaSHA1: method = .rsaSHA1(privateKeyPEM: try required(target.privateKey, "private key", fail: fail))
        case .hmacSHA1: method = .hmacSHA1(consumerSecret: try required(target.consumerSecret, "consumer secret", fail: fail))
        case .plaintext: method = .plaintext(consumerSecret: try required(target.consumerSecret, "consumer secret", fail: fail))
        }
        return OAuth1Client(consumerKey: consumerKey, signatureMethod: method,
                            requestTokenURL: expand(target.requestTokenURL, installation.config),
                            authorizeURL: expand(target.authorizeURL, installation.config),
                            accessTokenURL: expand(target.accessTokenURL, installation.config), http: http)
    }

    func authorizeOAuth1(_ target: OAuth1Target, _ installation: InstallationRecord, options: ReconnectOptions,
                         fail: (ReconnectStep, String) -> ReconnectError) async throws -> GrantedTokens {
        let client = try oauth1Client(target, installation, fail: fail)
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
            let expected = temporary.token
            do {
                query = try await listener.waitForRedirect(timeout: options.authorizationTimeout) { query in
                    query["oauth_token"] == expected ? nil : "the callback is for another request token"
                }
            } catch {
                throw fail(.authorize, "no authorization arrived: \(error)")
            }
            guard query["oauth_token"] == temporary.token else { throw fail(.authorize, "the callback is for another request token") }
            guard let value = query["oauth_verifier"], !value.isEmpty else { throw fail(.authorize, "the callback carries no oauth_verifier (denied?)") }
            verifier = value
        } else {
            guard let value = await askVerifier(), !value.isEmpty else { throw fail(.authorize, "no verifier was entered") }
            verifier = value
        }
        return try await exchange(temporary, verifier: verifier, client: client, fail: fail)
    }

    // MARK: OAuth 2.0

    /// The installation's OAuth 2.0 client, with the issuer discovered (RFC 8414) where the registry names one.
    func oauth2Client(_ target: OAuth2Target, _ installation: InstallationRecord,
                      fail: (ReconnectStep, String) -> ReconnectError) async throws -> OAuth2Client {
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
        return try target.client(config: installation.config, http: http, resolve: resolve, issuer: issuer,
                                 requiresIss: requiresIss, fail: fail)
    }

    func authorizeOAuth2(_ target: OAuth2Target, _ installation: InstallationRecord, options: ReconnectOptions,
                         fail: (ReconnectStep, String) -> ReconnectError) async throws -> GrantedTokens {
        let client = try await oauth2Client(target, installation, fail: fail)
        let listener = try LoopbackRedirectListener()
        defer { listener.close() }
        let request = try client.makeAuthorizationRequest(redirectURI: listener.redirectURI)
        present(request.url)
        let code: String
        do {
            let state = request.state
            let query = try await listener.waitForRedirect(timeout: options.authorizationTimeout) { query in
                guard let received = query["state"], !received.isEmpty else { return "the redirect carries no state" }
                return received == state ? nil : "the state does not match the request rekey made"
            }
            code = try client.handleRedirect(query: query, for: request)
        } catch {
            throw fail(.authorize, "\(error)")
        }
        return try await exchange(code, for: request, client: client, fail: fail)
    }

    /// Redeems an authorization code for tokens (the `exchange` step).
    func exchange(_ code: String, for request: AuthorizationRequest, client: OAuth2Client,
                  fail: (ReconnectStep, String) -> ReconnectError) async throws -> GrantedTokens {
        do {
            let response = try await client.exchangeCode(code, for: request)
            return GrantedTokens(protocolName: "oauth2", accessToken: Secret(response.accessToken),
                                 refreshToken: response.refreshToken.map(Secret.init), expiresAt: response.expiresAt, scope: response.scope)
        } catch {
            throw fail(.exchange, "\(error)")
        }
    }

    /// Trades an OAuth 1.0a request token and its verifier for token credentials (the `exchange` step).
    func exchange(_ temporary: OAuth1Token, verifier: String, client: OAuth1Client,
                  fail: (ReconnectStep, String) -> ReconnectError) async throws -> GrantedTokens {
        do {
            let token = try await client.requestTokenCredentials(temporary: temporary, verifier: verifier)
            return GrantedTokens(protocolName: "oauth1", accessToken: Secret(token.token), tokenSecret: Secret(token.secret))
        } catch {
            throw fail(.exchange, "\(error)")
        }
    }

    /// Picks the site explicitly: by the installation's `cloud_id`, or `--site`; never "the first one".
    func selectSite(_ url: String, tokens: GrantedTokens, installation: InstallationRecord, site: String?,
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
        let listed = sites.map { "\($0.id) (\($0.url ?? $0.name ?? "?"))" }.joined(separator: ", ")
        // The installation's own site comes first: a token for another site is refused, whatever `site` says.
        let own = installation.config["cloud_id"] ?? installation.config["site"]
        if let own, let site, site != own {
            throw fail(.selectSite, "--site \(site) is not this installation's site (\(own)); accessible: \(listed)")
        }
        let wanted = own ?? site
        guard let wanted else {
            throw fail(.selectSite, "\(sites.count) sites are accessible and the installation names none; pass --site with one of: \(listed)")
        }
        guard let site = sites.first(where: { $0.id == wanted || $0.url == wanted }) else {
            throw fail(.selectSite, "the site \(wanted) is not among the accessible ones: \(listed)")
        }
        return (site.id, site.url)
    }

    // MARK: Verify

    /// Makes the registry's verify call with the new tokens; returns the account that authorized, from the answer
    /// (`accountId`, `name` or `key`), when it names one.
    func verifyTokens(_ tokens: GrantedTokens, call: VerifyCall, migration: Migration, integration: Integration,
                      installation: InstallationRecord) async throws -> String? {
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
        let answer = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any]
        let names = ["accountId", "name", "key", "emailAddress"].compactMap { answer?[$0] as? String }.filter { !$0.isEmpty }
        if let expected = call.expectAccount.map({ expand($0, installation.config) }), !names.contains(expected) {
            throw WrongAccount(expected: expected, authorized: names.first)
        }
        return names.first
    }
}
