import Curl
import Foundation
import Synchronization
import RekeyTestSupport
import Testing

/// `rekey reconnect` through the built binary against real OAuth 1.0a and 2.0 providers on 127.0.0.1.
/// The test plays the browser: it reads the printed authorization URL, follows it to the provider,
/// and delivers the provider's redirect to rekey's loopback listener.
@Suite(.serialized) struct ReconnectEndToEndTests {
    static let consumerKey = "rekeyjiraconsumer0001"
    static let sandboxSite = "8f2c6b1e-7d3a-4c59-9e0b-5a4d3c2b1a09"

    /// A registry with a Jira Server (OAuth 1.0a RSA-SHA1) and a Jira Cloud (OAuth 2.0) integration.
    func writeRegistry(_ rekey: Rekey, oauth2Issuer: String) throws {
        try rekey.dir.write("partners.yaml", jiraRegistry(pem: rekey.dir.file("consumer.pem"), oauth2: oauth2Issuer))
    }

    static let environment = [
        "JIRA_CONSUMER_KEY": consumerKey, "JIRA_CLOUD_CLIENT_ID": "rekeyclient", "JIRA_CLOUD_CLIENT_SECRET": "CANARY-client-secret-41",
    ]

    struct Providers {
        let oauth1: TestServer
        let oauth2: TestServer
    }

    /// Starts both providers; the OAuth 1.0a one trusts the RSA public key of a key written to consumer.pem.
    func startProviders(_ rekey: Rekey, oauth1Arguments: [String] = [], oauth2Arguments: [String] = []) async throws -> Providers {
        let key = try await runProcess("/usr/bin/env", ["openssl", "genrsa", "-out", rekey.dir.file("consumer.pem"), "2048"])
        #expect(key.status == 0)
        _ = try await runProcess("/usr/bin/env", ["openssl", "rsa", "-in", rekey.dir.file("consumer.pem"), "-pubout", "-out", rekey.dir.file("consumer.pub")])
        let oauth1 = try await TestServer.start(script: "oauth1_provider.py", arguments: ["--rsa-consumer", "\(Self.consumerKey)=\(rekey.dir.file("consumer.pub"))"] + oauth1Arguments)
        let oauth2 = try await TestServer.start(script: "oauth2_provider.py", arguments: ["--client", "rekeyclient:CANARY-client-secret-41"] + oauth2Arguments)
        try writeRegistry(rekey, oauth2Issuer: oauth2.baseURL)
        return Providers(oauth1: oauth1, oauth2: oauth2)
    }

    /// Imports one Jira Server and one Jira Cloud installation, each with a canary password; returns their ids.
    func importInstallations(_ rekey: Rekey, _ providers: Providers) async throws -> (server: String, cloud: String) {
        try await rekey("init")
        try rekey.dir.write("installations.csv", """
            customer,integration,contacts,config.base_url,config.username,config.cloud_id,secret.password
            Acme,jira-server,it@acme.example,\(providers.oauth1.baseURL),svc,,CANARY-server-password-1
            Acme,jira-cloud,it@acme.example,,,\(Self.sandboxSite),CANARY-cloud-password-2
            """)
        #expect(try await rekey("installations", "import", "installations.csv").status == 0)
        let list = try JSONSerialization.jsonObject(with: Data(try await rekey("installations", "list", "--json").stdout.utf8)) as? [[String: Any]] ?? []
        let id = { (integration: String) in list.first { $0["integration"] as? String == integration }?["id"] as? String ?? "" }
        return (id("jira-server"), id("jira-cloud"))
    }

    /// Runs reconnect in the background, plays the browser, and returns its exit status and output.
    /// `page` gets what the loopback listener showed the browser.
    func reconnectAsBrowser(_ rekey: Rekey, _ arguments: [String], callback: ((String) -> String)? = nil,
                            page: ((String) -> Void)? = nil) async throws -> CommandResult {
        let out = rekey.dir.file("reconnect-\(UUID().uuidString).out"), err = out + ".err"
        let process = try launchProcess(Paths.rekeyBinary, ["reconnect"] + arguments + ["--no-browser", "--timeout", "20"],
                                        environment: Self.environment.merging(["REKEY_TEMPLATES": Paths.packageRoot.appendingPathComponent("Templates").path]) { a, _ in a },
                                        directory: rekey.dir.path, stdout: out, stderr: err)
        var url: String?
        for _ in 0..<200 where url == nil && !process.hasExited {
            try await Task.sleep(for: .milliseconds(50))
            url = (try? String(contentsOfFile: out, encoding: .utf8))?.split(separator: "\n").first { $0.hasPrefix("http") }.map(String.init)
        }
        if let url {
            let browser = try CurlMulti(maxConnections: 2)
            let authorize = try await browser.perform(HTTPRequest(url: url))
            #expect(authorize.status == 302, "\(authorize.bodyString)")
            if let location = authorize.header("Location") {
                let shown = try? await browser.perform(HTTPRequest(url: callback?(location) ?? location))
                page?(shown?.bodyString ?? "")
            }
        }
        while !process.hasExited { try await Task.sleep(for: .milliseconds(50)) }
        return CommandResult(status: process.exitStatus ?? -1, stdout: (try? String(contentsOfFile: out, encoding: .utf8)) ?? "",
                             stderr: (try? String(contentsOfFile: err, encoding: .utf8)) ?? "")
    }

    func assertNoCanary(_ rekey: Rekey, _ canary: String, outputs: [CommandResult]) throws {
        for (name, data) in try rekey.dir.bytes(ofFilesStartingWith: "rekey.sqlite") {
            #expect(data.occurrences(of: canary) == 0, "\(canary) in \(name)")
        }
        for output in outputs { #expect(!output.stdout.contains(canary) && !output.stderr.contains(canary)) }
    }

    @Test func jiraServerMovesToOAuth1RSAAndThePasswordIsGone() async throws {
        let rekey = try Rekey()
        let providers = try await startProviders(rekey)
        let ids = try await importInstallations(rekey, providers)

        let plan = try await rekey("reconnect", ids.server, "--dry-run", environment: Self.environment)
        #expect(plan.status == 0 && plan.stdout.contains("purge: overwrite and delete password"))

        let result = try await reconnectAsBrowser(rekey, [ids.server, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.split(separator: "\n").dropFirst().joined(separator: "\n").utf8)) as? [String: Any])
        #expect(json["outcome"] as? String == "migrated")
        #expect(json["purged"] as? [String] == ["password"])
        #expect((json["verified_with"] as? String)?.hasSuffix("/rest/api/2/myself") == true)

        // The password is gone from the store; the tokens are there, sealed
        let list = try await rekey("installations", "list", "--json")
        let server = try #require((try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])?.first { $0["id"] as? String == ids.server })
        #expect(server["state"] as? String == "migrated")
        #expect(server["secret_fields"] as? [String] == ["oauth.access_token", "oauth.token_secret"])
        try assertNoCanary(rekey, "CANARY-server-password-1", outputs: [plan, result, list])

        // Audit counts it as migrated; running reconnect again is safe
        let audit = try await rekey("audit", "--json")
        let line = try #require((try audit.json()["integrations"] as? [[String: Any]])?.first { $0["id"] as? String == "jira-server" })
        #expect(line["migrated"] as? Int == 1 && line["exposed"] as? Int == 0 && line["still_on_passwords"] as? Double == 0)
        let again = try await rekey("reconnect", ids.server, "--no-browser", environment: Self.environment)
        #expect(again.status == 0 && again.stdout.contains("already migrated"))
        #expect(try await rekey("log", "verify").status == 0)
    }

    @Test func jiraCloudMovesToOAuth2OnTheNamedSiteThenRefreshesAndRevokes() async throws {
        let rekey = try Rekey()
        let providers = try await startProviders(rekey)
        let ids = try await importInstallations(rekey, providers)

        let result = try await reconnectAsBrowser(rekey, [ids.cloud])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("verified with GET \(providers.oauth2.baseURL)/ex/jira/\(Self.sandboxSite)/rest/api/3/myself"))
        try assertNoCanary(rekey, "CANARY-cloud-password-2", outputs: [result])
        try assertNoCanary(rekey, "CANARY-client-secret-41", outputs: [result])

        // Refresh rotates the refresh token
        let refreshed = try await rekey("oauth", "refresh", ids.cloud, "--json", environment: Self.environment)
        #expect(refreshed.status == 0, "\(refreshed.stderr)")
        #expect(refreshed.stdout.contains("\"refreshed\""))
        let due = try await rekey("oauth", "refresh", "--due", "--within", "7200", "--json", environment: Self.environment)
        #expect(due.status == 0 && due.stdout.contains("\"refreshed\""))

        // Revocation: the provider forgets the tokens, rekey deletes them and the installation needs reconnecting
        let revoke = try await rekey("oauth", "revoke", ids.cloud, "--json", environment: Self.environment)
        #expect(revoke.status == 0, "\(revoke.stderr)")
        #expect(revoke.stdout.contains("refresh_token"))
        let list = try await rekey("installations", "list", "--json")
        let cloud = (try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])?.first { $0["id"] as? String == ids.cloud }
        #expect(cloud?["state"] as? String == "needs_reconnect")
        #expect(cloud?["secret_fields"] as? [String] == [])
    }

    @Test func aFailedVerificationKeepsThePassword() async throws {
        let rekey = try Rekey()
        let providers = try await startProviders(rekey, oauth1Arguments: ["--deny-api"])
        let ids = try await importInstallations(rekey, providers)
        let result = try await reconnectAsBrowser(rekey, [ids.server])
        #expect(result.status == 1)
        #expect(result.stderr.contains("failed at step 'verify'"))
        #expect(result.stderr.contains("answered HTTP 401, expected 200"))
        #expect(result.stderr.contains("The stored password is untouched"))
        let list = try await rekey("installations", "list", "--json")
        let server = (try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])?.first { $0["id"] as? String == ids.server }
        #expect(server?["state"] as? String == "active")
        #expect(server?["secret_fields"] as? [String] == ["password"])
    }

    @Test func aForgedStateIsRejectedAndNothingChanges() async throws {
        let rekey = try Rekey()
        let providers = try await startProviders(rekey)
        let ids = try await importInstallations(rekey, providers)
        // The "browser" tampers with the state on the way back
        let shown = Mutex("")
        let result = try await reconnectAsBrowser(rekey, [ids.cloud], callback: { location in
            location.replacingOccurrences(of: "state=", with: "state=forged")
        }, page: { text in shown.withLock { $0 = text } })
        #expect(result.status == 1)
        // The browser is told the truth: refused, never "complete"
        #expect(shown.withLock { $0.contains("Authorization refused") && !$0.contains("complete") }, "\(shown.withLock { $0 })")
        #expect(result.stderr.contains("failed at step 'authorize'"))
        #expect(result.stderr.lowercased().contains("state"))
        let list = try await rekey("installations", "list", "--json")
        let cloud = (try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])?.first { $0["id"] as? String == ids.cloud }
        #expect(cloud?["secret_fields"] as? [String] == ["password"])
    }

    @Test func aSiteThatIsNotAccessibleIsNamedNotGuessed() async throws {
        let rekey = try Rekey()
        let providers = try await startProviders(rekey)
        let ids = try await importInstallations(rekey, providers)
        let result = try await reconnectAsBrowser(rekey, [ids.cloud, "--site", "no-such-site"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("failed at step 'select-site'"))
        #expect(result.stderr.contains("1324a887-45db-1bf4-1e99-ef0ff456d421") && result.stderr.contains(Self.sandboxSite))
    }
}
