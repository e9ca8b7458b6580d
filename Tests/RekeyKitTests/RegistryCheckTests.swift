import Foundation
import RekeyKit
import RekeyTestSupport
import Testing

/// Each broken registry in Fixtures/registry-broken declares the errors it must produce on its
/// leading `# expect: LINE:COLUMN message` lines; the check must report exactly those.
@Suite struct RegistryCheckTests {
    static let corpus = Paths.packageRoot.appendingPathComponent("Tests/RekeyKitTests/Fixtures/registry-broken")

    static var brokenFiles: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: corpus.path)) ?? []).filter { $0.hasSuffix(".yaml") }.sorted()
    }

    @Test func theCorpusIsThere() {
        #expect(Self.brokenFiles.count >= 15)
    }

    @Test(arguments: brokenFiles)
    func brokenRegistryReportsItsPlace(_ name: String) throws {
        // Given a registry with a known mistake
        let path = Self.corpus.appendingPathComponent(name).path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let expectations = text.split(separator: "\n").prefix { $0.hasPrefix("# expect: ") }.map { $0.dropFirst("# expect: ".count) }
        #expect(!expectations.isEmpty, "\(name) declares no expectation")

        // When it is checked
        let error = #expect(throws: InputError.self) { try Registry.load(path: path) }

        // Then every declared error is reported at its exact line and column, and nothing else is
        let diagnostics = try #require(error).diagnostics
        #expect(diagnostics.count == expectations.count, "\(name): \(diagnostics)")
        for expectation in expectations {
            let place = expectation.prefix { $0 != " " }
            let message = expectation.dropFirst(place.count + 1)
            let match = diagnostics.first { "\($0.line ?? 0):\($0.column ?? 0)" == place && $0.message.hasPrefix(message) }
            #expect(match != nil, "\(name): expected \(place) \(message), got \(diagnostics.map(\.description))")
            #expect(match?.file == path)
        }
    }

    @Test func shippedRegistryIsValid() throws {
        let registry = try Registry.load(path: Paths.registry)
        #expect(registry.integration("jira-server")?.auth == .password)
        #expect(registry.integration("jira-server")?.storage == .plaintext)
        #expect(registry.integration("jira-server")?.migration?.oauth1?.signatureMethod == .rsaSHA1)
        #expect(registry.integration("jira-cloud")?.migration?.oauth2?.scopes.contains("offline_access") == true)
        #expect(registry.integration("jira-cloud")?.migration?.oauth2?.authorizationParams["audience"] == "api.atlassian.com")
        for id in ["jira-server", "jira-cloud", "github-pat", "slack", "pagerduty", "generic-webhook"] {
            #expect(registry.integration(id) != nil, "missing \(id)")
        }
    }

    @Test func everyErrorIsReportedNotJustTheFirst() throws {
        // Given a registry with three independent mistakes
        let text = """
            version: 1
            partners:
              - id: acme
                name: Acme
                colour: red
                contacts:
                  - role: security
                    email: nope
            integrations:
              - id: x
                name: X
                partner: nobody
                auth: password
                storage: plaintext
                secrets: [password]
            """
        // When it is checked
        let error = #expect(throws: InputError.self) { try Registry.parse(text, file: "r.yaml") }
        // Then all three are reported, in order
        #expect(error?.diagnostics.map { "\($0.line ?? 0):\($0.column ?? 0)" } == ["5:5", "8:16", "12:14"])
        #expect(error?.description.hasSuffix("3 errors") == true)
    }

    @Test(arguments: [("inline-secret.yaml", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), ("url-credentials.yaml", "CANARY-url-password")])
    func diagnosticsNeverEchoASecretBack(_ name: String, secret: String) throws {
        let path = Self.corpus.appendingPathComponent(name).path
        let error = #expect(throws: InputError.self) { try Registry.load(path: path) }
        #expect(error != nil)
        #expect(error?.description.contains(secret) == false)
    }
}
