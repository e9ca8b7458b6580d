import Foundation
import GRDB
import Logging
@testable import RekeyKit
import RekeyTestSupport
import Testing

/// A real store file and key ring in a temporary directory, with the shipped registry.
struct StoreFixture {
    let dir: TemporaryDirectory
    let store: AppDatabase
    var ring: KeyRing
    let registry: Registry

    init() throws {
        dir = try TemporaryDirectory()
        var logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
        logger.logLevel = .critical
        store = try AppDatabase(path: dir.file("rekey.sqlite"), logger: logger)
        ring = KeyRing.generate()
        registry = try Registry.load(path: Paths.registry)
    }

    /// Imports CSV text through the same parser the command uses.
    @discardableResult
    func importCSV(_ text: String) async throws -> ImportSummary {
        let drafts = try InstallationImport.parse(text, file: "test.csv", format: .csv, registry: registry)
        return try await store.importInstallations(drafts, registry: registry, keyRing: ring)
    }

    /// Rotates a copy of the ring `times` times, recording each new key: audit entries at little cost.
    func recordRotations(_ times: Int) async throws {
        var ring = ring
        for _ in 0..<times {
            ring.rotate()
            try await store.recordKeyRotation(ring.active)
        }
    }

    func count(_ sql: String) async throws -> Int {
        try await store.writer.read { try Int.fetchOne($0, sql: sql) ?? 0 }
    }
}

extension StoreFixture {
    /// Each secret imported from `canaryCSV(canaries)` opens with `ring` to its canary.
    func expectEachCanaryOpens(_ canaries: [String], with ring: KeyRing) async throws {
        for (index, canary) in canaries.enumerated() {
            let (integration, field) = index.isMultiple(of: 2) ? ("jira-server", "password") : ("pagerduty", "api_key")
            let id = try #require(try await store.installationID(integration: integration, customer: "Customer \(index)"))
            #expect(try await store.secret(installation: id, field: field, keyRing: ring) == Secret(canary))
        }
    }
}

/// Installations with canary secrets, one per plaintext-class integration.
func canaryCSV(_ canaries: [String]) -> String {
    var lines = ["customer,integration,contacts,config.base_url,config.username,secret.password,config.subdomain,secret.api_key"]
    for (index, canary) in canaries.enumerated() {
        if index.isMultiple(of: 2) {
            lines.append("Customer \(index),jira-server,ops\(index)@c\(index).example,https://jira.c\(index).example,svc,\(canary),,")
        } else {
            lines.append("Customer \(index),pagerduty,ops\(index)@c\(index).example,,,,c\(index),\(canary)")
        }
    }
    return lines.joined(separator: "\n") + "\n"
}
