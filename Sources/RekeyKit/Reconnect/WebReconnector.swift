import Foundation
import Logging
import OAuth

/// The customer's side of a reconnect, for `rekey serve`: a link's landing page, the start of an authorization
/// (OAuth 2.0 code + PKCE, or OAuth 1.0a), and the provider's callback, which finishes with the same steps as
/// `rekey reconnect` (site, seal, verify, purge). Every answer is a `WebOutcome` or a redirect to the provider; no
/// redirect target ever comes from the request.
public struct WebReconnector: Sendable {
    let reconnector: Reconnector
    /// The public base URL, without a trailing slash.
    let publicURL: String
    let locks = InstallationLocks()
    let opens: LinkOpenRecorder
    /// Links as their landing pages last read them, by token (in this process's memory only; nil: no such token).
    let landings: ExpiringCache<(link: ReconnectLink, landing: LinkLanding)?>

    /// A web front over `reconnector`, whose callbacks are `<publicURL>/oauth/callback` and `<publicURL>/oauth1/callback`.
    /// Views of landing pages are written in batches, at most every `openRecordInterval` (zero: each at once); a
    /// link's landing page is read from the store at most every `landingLifetime` (zero: every time).
    public init(reconnector: Reconnector, publicURL: String, openRecordInterval: Duration = .zero, landingLifetime: Duration = .zero) {
        self.reconnector = reconnector
        self.publicURL = publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL
        opens = LinkOpenRecorder(store: reconnector.store, interval: openRecordInterval, logger: reconnector.logger)
        landings = ExpiringCache(lifetime: landingLifetime)
    }

    /// Writes the landing page views not yet written (call when the service stops).
    public func flushOpens() async { await opens.flush() }

    var store: AppDatabase { reconnector.store }
    var oauth2RedirectURI: String { publicURL + "/oauth/callback" }
    var oauth1CallbackURI: String { publicURL + "/oauth1/callback" }

    /// Discards what attempts interrupted by a crash left behind (call once at start).
    public func recoverInterruptedAttempts() async throws {
        try store.discardInterruptedAttempts(logger: reconnector.logger)
    }

    /// The landing page of a link token; nil for an unknown, expired or revoked one. With `record`, notes that
    /// it was opened, the only change a GET or HEAD makes.
    ///
    /// The answer may lag the store by `landingLifetime` (a revocation shows on the landing page that much later; the
    /// form's POST and the callbacks always read the store).
    public func landing(token: String, record: Bool) async throws -> LinkLanding? {
        guard LinkToken.isWellFormed(token) else { return nil }
        let found: (link: ReconnectLink, landing: LinkLanding)?
        if let cached = landings.value(token) {
            found = cached
        } else {
            found = try await store.link(token: token).map { ($0, landing(for: $0)) }
            landings.store(found, for: token)
        }
        guard let found, found.link.state == .live || found.link.state == .migrated else { return nil }
        if record { try await opens.record(found.link) }
        return found.landing
    }

    private func landing(for link: ReconnectLink) -> LinkLanding {
        let integration = reconnector.registry.integration(link.integration)
        let partner = integration.flatMap { reconnector.registry.partner($0.partner)?.name } ?? ""
        let authorizePage: String? = switch integration?.migration?.target {
        case .oauth1(let target): target.authorizeURL
        case .oauth2(let target): target.authorizationURL
        case nil: nil
        }
        let name = integration?.name ?? link.integration
        // A page whose URL starts from the installation's config ("{base_url}/…") is on the customer's own site
        let ownSite = authorizePage?.hasPrefix("{") == true ? link.site.flatMap { $0.isEmpty ? nil : $0 } : nil
        return LinkLanding(customer: link.customer, integration: name, partner: partner,
                           approveAt: ownSite ?? (partner.isEmpty ? name : partner),
                           site: link.site, protocolName: integration?.migration?.target.protocolName == "oauth1" ? "OAuth 1.0a" : "OAuth 2.0",
                           state: link.state)
    }

    /// Starts a fresh authorization for a link, bound to the browser's cookie value `browser`: the provider's
    /// authorization URL to redirect to, or the page to show instead.
    public func start(token: String, browser: String) async -> WebStart {
        do {
            guard let link = try await store.link(token: token) else { return .page(.linkInvalid) }
            switch link.state {
            case .migrated: return .page(.alreadyMigrated)
            case .expired, .revoked: return .page(.linkInvalid)
            case .live: break
            }
            let subject = try await reconnector.prepare(link.installation)
            let id = subject.installation.id
            func fail(_ step: ReconnectStep, _ reason: String) -> ReconnectError { ReconnectError(installation: id, step: step, reason: reason) }
            switch subject.migration.target {
            case .oauth2(let target):
                let client = try await reconnector.oauth2Client(target, subject.installation, fail: fail)
                let request = try client.makeAuthorizationRequest(redirectURI: oauth2RedirectURI)
                try await store.startFlow(NewReconnectFlow(state: request.state, installation: id, link: link.id, browser: browser,
                                                           protocolName: "oauth2", secret: Secret(request.pkce.verifier)),
                                          keyRing: reconnector.keyRing)
                return .redirect(request.url)
            case .oauth1(let target):
                let client = try reconnector.oauth1Client(target, subject.installation, fail: fail)
                let temporary: OAuth1Token
                do {
                    temporary = try await client.requestTemporaryCredentials(callback: oauth1CallbackURI)
                } catch {
                    throw fail(.authorize, "requesting temporary credentials: \(error)")
                }
                try await store.startFlow(NewReconnectFlow(state: LinkToken.random(), installation: id, link: link.id, browser: browser,
                                                           protocolName: "oauth1", secret: Secret(temporary.secret),
                                                           requestToken: temporary.token),
                                          keyRing: reconnector.keyRing)
                return .redirect(client.authorizationURL(for: temporary))
            }
        } catch let error as ReconnectError {
            reconnector.logger.error("reconnect could not start", metadata: ["installation": "\(error.installation)", "step": "\(error.step.rawValue)",
                                                                            "reason": "\(error.reason)"])
            return .page(.failed(step: error.step))
        } catch {
            reconnector.logger.error("reconnect could not start", metadata: ["error": "\(error)"])
            return .page(.failed(step: .plan))
        }
    }

    /// The OAuth 2.0 redirect back: `state` checked against the server's record and the browser's cookie, once;
    /// `iss` where the provider has one; then the code exchanged and the migration completed.
    public func oauth2Callback(query: [String: String], browser: String?) async -> WebOutcome {
        guard let state = query["state"], !state.isEmpty else { return .refused }
        return await callback(state: state, requestToken: nil, browser: browser) { subject, flow, fail in
            guard case .oauth2(let target) = subject.migration.target else { throw fail(.plan, "the flow is not OAuth 2.0") }
            if query["error"] != nil, query["code"] == nil { return nil }
            let client = try await reconnector.oauth2Client(target, subject.installation, fail: fail)
            let request = try AuthorizationRequest(restoringState: state, verifier: flow.secret.exposedString,
                                                   redirectURI: oauth2RedirectURI, scopes: target.scopes)
            let code: String
            do { code = try client.handleRedirect(query: query, for: request) } catch { throw fail(.authorize, "\(error)") }
            return try await reconnector.exchange(code, for: request, client: client, fail: fail)
        }
    }

    /// The OAuth 1.0a callback: the request token must be one this server issued to this browser; its verifier
    /// is exchanged and the migration completed.
    public func oauth1Callback(query: [String: String], browser: String?) async -> WebOutcome {
        guard let token = query["oauth_token"], !token.isEmpty else { return .refused }
        return await callback(state: nil, requestToken: token, browser: browser) { subject, flow, fail in
            guard case .oauth1(let target) = subject.migration.target else { throw fail(.plan, "the flow is not OAuth 1.0a") }
            guard let verifier = query["oauth_verifier"], !verifier.isEmpty else { return nil }
            let client = try reconnector.oauth1Client(target, subject.installation, fail: fail)
            return try await reconnector.exchange(OAuth1Token(token: token, secret: flow.secret.exposedString), verifier: verifier,
                                                  client: client, fail: fail)
        }
    }

    /// Takes the flow, then runs `authorize` (nil: the customer declined) and completes, one installation at a time.
    private func callback(state: String?, requestToken: String?, browser: String?,
                          authorize: (Reconnector.Subject, TakenFlow, (ReconnectStep, String) -> ReconnectError) async throws -> GrantedTokens?)
        async -> WebOutcome {
        do {
            let taken = try await store.takeFlow(state: state, requestToken: requestToken, browser: browser, keyRing: reconnector.keyRing)
            let flow: TakenFlow
            switch taken {
            case .success(let value): flow = value
            case .failure(.linkInvalid): return .linkInvalid
            case .failure(let refusal):
                reconnector.logger.notice("refused an OAuth callback", metadata: ["why": "\(refusal)"])
                return .refused
            }
            let id = flow.installation
            await locks.acquire(id)
            let outcome = await finish(id, flow: flow, authorize: authorize)
            await locks.release(id)
            return outcome
        } catch {
            reconnector.logger.error("reconnect callback failed", metadata: ["error": "\(error)"])
            return .failed(step: .plan)
        }
    }
}

extension WebReconnector {
    /// The callback's work once its flow is taken and the installation held.
    private func finish(_ id: String, flow: TakenFlow,
                        authorize: (Reconnector.Subject, TakenFlow, (ReconnectStep, String) -> ReconnectError) async throws -> GrantedTokens?)
        async -> WebOutcome {
        func fail(_ step: ReconnectStep, _ reason: String) -> ReconnectError { ReconnectError(installation: id, step: step, reason: reason) }
        do {
            let subject = try await reconnector.prepare(id)
            if subject.result.outcome == .alreadyMigrated { return .alreadyMigrated }
            guard let tokens = try await authorize(subject, flow, fail) else {
                try await store.recordReconnectFailure(installation: id, step: .authorize)
                return .denied
            }
            let result = try await reconnector.complete(subject, tokens: tokens, site: nil)
            if result.outcome == .alreadyMigrated { return .alreadyMigrated }
            return .migrated(customer: result.customer, integration: subject.integration.name)
        } catch let error as ReconnectError {
            reconnector.logger.error("reconnect failed", metadata: ["installation": "\(id)", "step": "\(error.step.rawValue)",
                                                                  "reason": "\(error.reason)"])
            if error.step == .authorize || error.step == .exchange || error.step == .plan {
                try? await store.recordReconnectFailure(installation: id, step: error.step)
            }
            return .failed(step: error.step)
        } catch {
            reconnector.logger.error("reconnect failed", metadata: ["installation": "\(id)", "error": "\(error)"])
            return .failed(step: .plan)
        }
    }
}

/// One completion at a time per installation, within this process: concurrent callbacks make one migration.
actor InstallationLocks {
    private var busy: [String: [CheckedContinuation<Void, Never>]] = [:]

    /// Waits until no one else holds `id`, then holds it.
    func acquire(_ id: String) async {
        if busy[id] != nil {
            await withCheckedContinuation { busy[id, default: []].append($0) }
        } else {
            busy[id] = []
        }
    }

    /// Hands `id` to the next waiter, or frees it.
    func release(_ id: String) {
        if var waiting = busy[id], !waiting.isEmpty {
            waiting.removeFirst().resume()
            busy[id] = waiting
        } else {
            busy[id] = nil
        }
    }
}
