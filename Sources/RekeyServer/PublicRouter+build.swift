import Foundation
import Hummingbird
import Mustache
import OpenSSLCrypto
import RekeyKit

/// How the customer-facing side behaves.
public struct PublicSiteConfiguration: Sendable {
    /// The public base URL, such as `https://rekey.example.com`.
    public var publicURL: String
    /// The `Host` values answered; nil answers any (tests in process).
    public var allowedHosts: Set<String>?
    /// Requests a minute per client address on `/r/` and the callbacks; 0 turns the limit off.
    public var rateLimit = 60
    /// Take the client address from `X-Forwarded-For` when the peer is a proxy on loopback.
    public var trustProxy = false
    /// How long a link's rendered landing page is reused (zero: rendered for every request).
    public var renderedLifetime: Duration = .zero

    /// The public side of `publicURL`.
    public init(publicURL: String, allowedHosts: Set<String>? = nil) {
        self.publicURL = publicURL
        self.allowedHosts = allowedHosts
    }

    /// Cookies are `Secure` and responses carry HSTS when the public URL is https.
    var isHTTPS: Bool { publicURL.lowercased().hasPrefix("https://") }
}

/// The customer-facing routes: a reconnect link's landing page (`GET`/`HEAD /r/<token>`, which change nothing but
/// the link's "opened" time), its form (`POST /r/<token>`, which needs the page's CSRF cookie and starts a fresh
/// authorization), the OAuth 2.0 and 1.0a callbacks, and the pages' assets. Nothing of the admin side is here.
public func buildPublicRouter(web: WebReconnector, pages: Pages, configuration: PublicSiteConfiguration) -> Router<PublicRequestContext> {
    let router = Router(context: PublicRequestContext.self)
    router.add(middleware: SecurityHeadersMiddleware(hsts: configuration.isHTTPS, formActionSelf: false))
    if let allowed = configuration.allowedHosts { router.add(middleware: HostCheckMiddleware(allowed: allowed)) }
    if configuration.rateLimit > 0 {
        router.add(middleware: RateLimitMiddleware(limiter: RateLimiter(perMinute: configuration.rateLimit), trustProxy: configuration.trustProxy))
    }
    let site = CustomerPages(pages: pages, secure: configuration.isHTTPS, renderedLifetime: configuration.renderedLifetime)

    @Sendable func landing(_ request: Request, _ context: PublicRequestContext) async throws -> Response {
        let token = try context.parameters.require("token")
        guard let view = try await web.landing(token: token, record: true) else { return site.outcome(.linkInvalid) }
        if view.state == .migrated { return site.outcome(.alreadyMigrated) }
        return site.landing(view, token: token)
    }
    router.get("r/:token", use: landing)
    router.head("r/:token") { request, context in try await landing(request, context).createHeadResponse() }
    router.post("r/:token") { request, context in
        let token = try context.parameters.require("token")
        var request = request
        let body = try await request.collectBody(upTo: 4096)
        let form = FormBody.decode(String(buffer: body))
        guard let cookie = request.cookies[CustomerPages.csrfCookie]?.value, let sent = form["csrf"],
              Digest.constantTimeEqual(Array(cookie.utf8), Array(sent.utf8)), !cookie.isEmpty else {
            return site.outcome(.startRefused)
        }
        let browser = LinkToken.random()
        switch await web.start(token: token, browser: browser) {
        case .redirect(let url):
            var response = Response(status: .seeOther, headers: [.location: url])
            response.setCookie(site.flowCookie(browser))
            return response
        case .page(let outcome):
            return site.outcome(outcome)
        }
    }
    router.get("oauth/callback") { request, _ in
        let query = FormBody.decode(request.uri.query ?? "")
        return site.outcome(await web.oauth2Callback(query: query, browser: request.cookies[CustomerPages.flowCookie]?.value), endingFlow: true)
    }
    router.get("oauth1/callback") { request, _ in
        let query = FormBody.decode(request.uri.query ?? "")
        return site.outcome(await web.oauth1Callback(query: query, browser: request.cookies[CustomerPages.flowCookie]?.value), endingFlow: true)
    }
    router.get("assets/:name") { _, context in
        let name = try context.parameters.require("name")
        guard ["rekey.css", "favicon.svg"].contains(name), let asset = pages.assets[name] else { throw HTTPError(.notFound) }
        return Response(status: .ok, headers: [.contentType: asset.contentType, .cacheControl: "max-age=300"],
                        body: .init(byteBuffer: ByteBuffer(string: asset.body)))
    }
    return router
}

/// Renders the customer's pages and their cookies.
struct CustomerPages: Sendable {
    let pages: Pages
    /// Cookies are `Secure` (https).
    let secure: Bool
    /// Landing pages rendered, split where their CSRF value goes, by token (in this process's memory only).
    let rendered: ExpiringCache<LandingHalves>
    /// Outcome pages that name no one, rendered once.
    let fixed: ExpiringCache<String>

    init(pages: Pages, secure: Bool, renderedLifetime: Duration) {
        self.pages = pages
        self.secure = secure
        rendered = ExpiringCache(lifetime: renderedLifetime)
        fixed = ExpiringCache(lifetime: renderedLifetime == .zero ? .zero : .seconds(3600), capacity: 16)
    }

    /// A landing page before and after its CSRF value.
    struct LandingHalves: Sendable {
        var head: String
        var tail: String
    }

    /// The landing page's CSRF cookie: SameSite=Strict, so a form posted from another site never carries it.
    static let csrfCookie = "rekey_csrf"
    /// The cookie that binds an authorization's callback to the browser that started it (SameSite=Lax: the
    /// provider's redirect back is a top-level navigation).
    static let flowCookie = "rekey_flow"

    func landing(_ view: LinkLanding, token: String) -> Response {
        let csrf = LinkToken.random()
        let halves: LandingHalves
        if let cached = rendered.value(token) {
            halves = cached
        } else {
            // Rendered once with a random marker where the CSRF value goes, then split there.
            let marker = "rekeycsrf" + LinkToken.random(bytes: 12).filter { $0.isLetter || $0.isNumber }
            var values: [String: Any] = ["customer": view.customer, "integration": view.integration,
                                         "partner": view.partner.isEmpty ? view.integration : view.partner, "approve_at": view.approveAt,
                                         "protocol": view.protocolName, "token": token, "csrf": marker]
            if let site = view.site, !site.isEmpty { values["site"] = site }
            let page = pages.reconnectLanding.render(values)
            let parts = page.components(separatedBy: marker)
            halves = parts.count == 2 ? LandingHalves(head: parts[0], tail: parts[1]) : LandingHalves(head: page, tail: "")
            if parts.count == 2 { rendered.store(halves, for: token) }
        }
        var response = html(.ok, halves.tail.isEmpty ? halves.head : halves.head + csrf + halves.tail)
        response.setCookie(Cookie(name: Self.csrfCookie, value: csrf, maxAge: 3600, path: "/r/", secure: secure, httpOnly: true, sameSite: .strict))
        return response
    }

    func flowCookie(_ value: String) -> Cookie {
        Cookie(name: Self.flowCookie, value: value, maxAge: 600, path: "/", secure: secure, httpOnly: true, sameSite: .lax)
    }

    func outcome(_ outcome: WebOutcome, endingFlow: Bool = false) -> Response {
        let (status, page): (HTTPResponse.Status, String)
        if case .migrated = outcome {
            (status, page) = render(outcome)
        } else if let cached = fixed.value(String(describing: outcome)) {
            (status, page) = (Self.status(outcome), cached)
        } else {
            (status, page) = render(outcome)
            fixed.store(page, for: String(describing: outcome))
        }
        var response = html(status, page)
        if endingFlow { response.setCookie(Cookie(name: Self.flowCookie, value: "", maxAge: 0, path: "/", secure: secure, httpOnly: true, sameSite: .lax)) }
        return response
    }

    static func status(_ outcome: WebOutcome) -> HTTPResponse.Status {
        switch outcome {
        case .migrated, .alreadyMigrated, .denied: .ok
        case .failed(let step) where step == .verify || step == .selectSite: .ok
        case .failed: .internalServerError
        case .linkInvalid: .notFound
        case .refused: .badRequest
        case .startRefused: .forbidden
        }
    }

    private func render(_ outcome: WebOutcome) -> (HTTPResponse.Status, String) {
        var values: [String: Any] = ["outcome": outcome.name]
        switch outcome {
        case .migrated(let customer, let integration):
            (values["heading"], values["migrated"], values["customer"], values["integration"]) = ("Reconnected", true, customer, integration)
        case .alreadyMigrated:
            (values["heading"], values["already_migrated"]) = ("Already reconnected", true)
        case .linkInvalid:
            (values["heading"], values["link_invalid"]) = ("This link no longer works", true)
        case .denied:
            (values["heading"], values["denied"]) = ("Access was not approved", true)
        case .failed(let step) where step == .verify || step == .selectSite:
            (values["heading"], values["verify_failed"], values["step"]) = ("We kept your password: the new access did not work", true, step.rawValue)
        case .failed(let step):
            (values["heading"], values["error"], values["step"]) = ("Something went wrong", true, step.rawValue)
        case .refused:
            (values["heading"], values["refused"]) = ("This authorization was refused", true)
        case .startRefused:
            (values["heading"], values["start_refused"]) = ("Please open the link in your browser", true)
        }
        let status = Self.status(outcome)
        return (status, pages.reconnectOutcome.render(values))
    }

    private func html(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

/// `application/x-www-form-urlencoded` (and query strings): the first value of each name.
enum FormBody {
    static func decode(_ text: String) -> [String: String] {
        var values: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func unescape(_ part: Substring) -> String { String(part).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" }
            let name = unescape(parts[0])
            if values[name] == nil { values[name] = parts.count > 1 ? unescape(parts[1]) : "" }
        }
        return values
    }
}
