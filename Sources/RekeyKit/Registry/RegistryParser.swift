import Foundation
import Yams

extension Registry {
    /// Reads and validates a registry file. Every problem is reported, each at its line and column.
    public static func load(path: String) throws(InputError) -> Registry {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InputError([Diagnostic(file: path, message: "cannot read the registry file")])
        }
        return try parse(try TextPlace.utf8Text(data, file: path, what: "the registry"), file: path)
    }

    /// Validates registry YAML text; `file` names it in diagnostics.
    public static func parse(_ text: String, file: String) throws(InputError) -> Registry {
        // No implicit tags: Yams resolves them with regular expressions on every scalar (seconds for a
        // 20,000-partner registry). The walker reads booleans itself (`Fields.bool`); null needs no tag.
        let root = try RegistryParser.compose(text, file: file, resolver: .basic)
        let parser = RegistryParser(file: file)
        let registry = parser.registry(root)
        guard parser.diagnostics.isEmpty, let registry else { throw InputError(parser.diagnostics) }
        return registry
    }
}

/// Walks the YAML node tree, building the model and recording a diagnostic for every problem.
final class RegistryParser {
    let file: String
    private(set) var diagnostics: [Diagnostic] = []

    init(file: String) { self.file = file }

    func error(_ message: String, at node: Node?) {
        diagnostics.append(node?.mark.map { Diagnostic(file: file, line: $0.line, column: $0.column, message: message) }
            ?? Diagnostic(file: file, message: message))
    }

    // MARK: Top level

    func registry(_ root: Node?) -> Registry? {
        guard let root else {
            error("the registry is empty; expected a mapping with `version`, `partners` and `integrations`", at: nil)
            return nil
        }
        guard let top = fields(root, context: "registry", allowed: ["version", "partners", "integrations"]) else { return nil }
        if let version = top.int("version", required: true), version != 1 {
            error("unsupported registry version \(version); expected 1", at: top["version"])
        }
        let partners = top.list("partners", required: true) { partner($0) } ?? []
        let integrations = top.list("integrations", required: true) { integration($0) } ?? []
        checkUnique(partners.map { ($0.value.id, $0.node) }, what: "partner")
        checkUnique(integrations.map { ($0.value.id, $0.node) }, what: "integration")

        let partnerIDs = Set(partners.map(\.value.id))
        for (integration, node) in integrations where !partnerIDs.contains(integration.partner) {
            let place = node.mapping?["partner"] ?? node
            error("integration '\(integration.id)' names partner '\(integration.partner)', which is not defined; known partners: \(partnerIDs.sorted().joined(separator: ", "))", at: place)
        }
        return Registry(partners: partners.map(\.value), integrations: integrations.map(\.value))
    }

    private func checkUnique(_ items: [(String, Node)], what: String) {
        var seen: [String: Node] = [:]
        for (id, node) in items {
            let place = node.mapping?["id"] ?? node
            if let first = seen[id], let mark = first.mapping?["id"]?.mark {
                error("duplicate \(what) id '\(id)' (first defined at line \(mark.line))", at: place)
            } else {
                seen[id] = node
            }
        }
    }

    // MARK: Partners

    private func partner(_ node: Node) -> Partner? {
        guard let f = fields(node, context: "partner", allowed: ["id", "name", "contacts", "webhook"]) else { return nil }
        let id = f.identifier("id")
        let name = f.string("name", required: true)
        let contacts = f.list("contacts", required: true) { contact($0) } ?? []
        if case .sequence(let list)? = f["contacts"], list.isEmpty {
            error("partner '\(id ?? "?")' needs at least one contact", at: f["contacts"])
        }
        let webhook = f["webhook"].flatMap { webhookEndpoint($0) }
        guard let id, let name else { return nil }
        return Partner(id: id, name: name, contacts: contacts.map(\.value), webhook: webhook)
    }

    private func contact(_ node: Node) -> Contact? {
        guard let f = fields(node, context: "contact", allowed: ["role", "name", "email"]) else { return nil }
        let role = f.string("role", required: true)
        let name = f.string("name")
        let email = f.email("email", required: true)
        guard let role, let email else { return nil }
        return Contact(role: role, name: name, email: email)
    }

    private func webhookEndpoint(_ node: Node) -> WebhookEndpoint? {
        guard let f = fields(node, context: "webhook", allowed: ["url", "secret", "events", "rate"]) else { return nil }
        let url = f.url("url", required: true)
        let secret = f.secretReference("secret", required: true)
        let events = f.list("events", required: true) { node -> String? in
            guard let event = self.scalarString(node, what: "an event type") else { return nil }
            guard WebhookEndpoint.knownEvents.contains(event) else {
                self.error("unknown event type '\(event)'; expected one of: \(WebhookEndpoint.knownEvents.joined(separator: ", "))", at: node)
                return nil
            }
            return event
        }
        let rate = f.rate("rate")
        guard let url, let secret, let events else { return nil }
        let mark = f["url"]?.mark
        return WebhookEndpoint(url: url, secret: secret, events: events.map(\.value), rate: rate,
                               urlLine: mark?.line ?? 1, urlColumn: mark?.column ?? 1)
    }

    // MARK: Integrations

    private func integration(_ node: Node) -> Integration? {
        guard let f = fields(node, context: "integration",
                             allowed: ["id", "name", "partner", "auth", "storage", "config", "secrets", "docs", "migrate"])
        else { return nil }
        let id = f.identifier("id")
        let name = f.string("name", required: true)
        let partner = f.string("partner", required: true)
        let auth = f.enumeration("auth", AuthKind.self, required: true)
        let storage = f.enumeration("storage", CredentialStorage.self, required: true)
        let config = f.stringList("config") ?? []
        let secrets = f.stringList("secrets", required: true) ?? []
        let docs = f.url("docs")
        if let auth, auth != .none, secrets.isEmpty, let place = f["secrets"] {
            error("integration '\(id ?? "?")' authenticates with \(auth.rawValue) but lists no secret fields", at: place)
        }
        let templateScope = Set(config)
        let migration = f["migrate"].flatMap { self.migration($0, config: templateScope) }
        guard let id, let name, let partner, let auth, let storage else { return nil }
        return Integration(id: id, name: name, partner: partner, auth: auth, storage: storage,
                           config: config, secrets: secrets, docs: docs, migration: migration)
    }

    private func migration(_ node: Node, config: Set<String>) -> Migration? {
        guard let f = fields(node, context: "migrate", allowed: ["to", "oauth1", "oauth2", "verify"], templates: config) else { return nil }
        let kind = f.enumeration("to", AuthKind.self, required: true)
        var target: MigrationTarget?
        if kind == .oauth1 {
            target = f.required("oauth1", because: "`to: oauth1`").flatMap { self.oauth1($0, config: config) }.map(MigrationTarget.oauth1)
        } else if kind == .oauth2 {
            target = f.required("oauth2", because: "`to: oauth2`").flatMap { self.oauth2($0, config: config) }.map(MigrationTarget.oauth2)
        } else if let kind, let place = f["to"] {
            error("cannot migrate to '\(kind.rawValue)'; expected oauth1 or oauth2", at: place)
        }
        let verify = f.required("verify", because: "every migration proves the new credentials").flatMap { self.verify($0, config: config) }
        guard let target, let verify else { return nil }
        return Migration(target: target, verify: verify)
    }

    private func oauth1(_ node: Node, config: Set<String>) -> OAuth1Target? {
        guard let f = fields(node, context: "oauth1", allowed: [
            "signature_method", "request_token_url", "authorize_url", "access_token_url", "consumer_key", "private_key", "consumer_secret",
        ], templates: config) else { return nil }
        let method = f.enumeration("signature_method", OAuth1Target.SignatureMethod.self, required: true)
        let request = f.url("request_token_url", required: true)
        let authorize = f.url("authorize_url", required: true)
        let access = f.url("access_token_url", required: true)
        let consumerKey = f.secretReference("consumer_key", required: true)
        let privateKey = f.secretReference("private_key", required: method == .rsaSHA1)
        let consumerSecret = f.secretReference("consumer_secret", required: method == .hmacSHA1 || method == .plaintext)
        guard let method, let request, let authorize, let access, let consumerKey else { return nil }
        return OAuth1Target(signatureMethod: method, requestTokenURL: request, authorizeURL: authorize, accessTokenURL: access,
                            consumerKey: consumerKey, privateKey: privateKey, consumerSecret: consumerSecret)
    }

    private func oauth2(_ node: Node, config: Set<String>) -> OAuth2Target? {
        guard let f = fields(node, context: "oauth2", allowed: [
            "authorization_url", "token_url", "scopes", "scope_separator", "authorization_params", "token_params",
            "revocation_url", "introspection_url", "issuer", "device_authorization_url", "accessible_resources_url",
            "refresh_token_rotation", "client_id", "client_secret",
        ], templates: config) else { return nil }
        let authorization = f.url("authorization_url", required: true)
        let token = f.url("token_url", required: true)
        let scopes = f.stringList("scopes") ?? []
        let separator = f.string("scope_separator") ?? " "
        let authorizationParams = f.stringMap("authorization_params") ?? [:]
        let tokenParams = f.stringMap("token_params") ?? [:]
        let target = OAuth2Target(
            authorizationURL: authorization ?? "", tokenURL: token ?? "", scopes: scopes, scopeSeparator: separator,
            authorizationParams: authorizationParams, tokenParams: tokenParams,
            revocationURL: f.url("revocation_url"), introspectionURL: f.url("introspection_url"),
            issuer: f.url("issuer"), deviceAuthorizationURL: f.url("device_authorization_url"),
            accessibleResourcesURL: f.url("accessible_resources_url"),
            refreshTokenRotation: f.bool("refresh_token_rotation") ?? false,
            clientID: f.secretReference("client_id", required: true) ?? SecretReference("env:UNSET")!,
            clientSecret: f.secretReference("client_secret"))
        guard authorization != nil, token != nil, f["client_id"] != nil else { return nil }
        return target
    }

    private func verify(_ node: Node, config: Set<String>) -> VerifyCall? {
        guard let f = fields(node, context: "verify", allowed: ["method", "url", "expect_status", "expect_account"], templates: config)
        else { return nil }
        let method = f.string("method") ?? "GET"
        let methods = ["GET", "POST", "HEAD"]
        if !methods.contains(method), let place = f["method"] {
            error("unsupported HTTP method '\(method)'; expected one of: \(methods.joined(separator: ", "))", at: place)
        }
        let url = f.url("url", required: true)
        let status = f.int("expect_status") ?? 200
        guard let url else { return nil }
        return VerifyCall(method: method, url: url, expectStatus: status, expectAccount: f.string("expect_account"))
    }

    // MARK: Helpers

    func fields(_ node: Node, context: String, allowed: [String], templates: Set<String> = []) -> Fields? {
        guard case .mapping(let mapping) = node else {
            error("expected a mapping for \(context), found \(kind(of: node))", at: node)
            return nil
        }
        var values: [String: Node] = [:]
        for (key, value) in mapping {
            guard let name = key.scalar?.string else {
                error("expected a plain key in \(context)", at: key)
                continue
            }
            if allowed.contains(name) {
                values[name] = value
            } else {
                error("unknown key '\(name)' in \(context); expected one of: \(allowed.joined(separator: ", "))", at: key)
            }
        }
        return Fields(parser: self, node: node, context: context, values: values, templates: templates)
    }

    func kind(of node: Node) -> String {
        switch node {
        case .scalar: node.null != nil ? "nothing" : "a scalar"
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        }
    }

    func scalarString(_ node: Node, what: String) -> String? {
        guard case .scalar(let scalar) = node else {
            error("expected \(what), found \(kind(of: node))", at: node)
            return nil
        }
        if let unsafe = DisplaySafety.firstUnsafe(in: scalar.string) {
            error("expected \(what) without control or bidirectional characters, found \(unsafe)", at: node)
            return nil
        }
        return scalar.string
    }

    static func diagnostic(for error: Error, in text: String, file: String) -> Diagnostic {
        switch error {
        case YamlError.scanner(let context, let problem, let mark, _),
             YamlError.parser(let context, let problem, let mark, _),
             YamlError.composer(let context, let problem, let mark, _):
            let prefix = context.map { "\($0.text) " } ?? ""
            return Diagnostic(file: file, line: mark.line, column: mark.column, message: "invalid YAML: \(prefix)\(problem)")
        case YamlError.duplicatedKeysInMapping(let duplicates, let context):
            let key = duplicates.first ?? "?"
            let (line, column) = secondOccurrence(of: key, after: context.mark, in: text)
            return Diagnostic(file: file, line: line, column: column,
                              message: "duplicate key '\(key)' (first at line \(context.mark.line), column \(context.mark.column))")
        default:
            return Diagnostic(file: file, message: "invalid YAML: \(error)")
        }
    }

    /// Yams marks the first of two duplicate keys; the one to fix is the later one, at the same indentation.
    private static func secondOccurrence(of key: String, after mark: Mark, in text: String) -> (Int, Int) {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        for index in mark.line..<lines.count {
            let line = Array(lines[index])
            guard line.count >= mark.column else { continue }
            let rest = String(line[(mark.column - 1)...])
            if rest.hasPrefix(key), rest.dropFirst(key.count).drop(while: { $0 == " " }).hasPrefix(":") {
                return (index + 1, mark.column)
            }
        }
        return (mark.line, mark.column)
    }
}
