import Foundation
import GRDB
import Logging
@testable import RekeyKit
import RekeyTestSupport
import Testing

/// Incidents in process: a real store file, the shipped templates, the Standard Webhooks receiver and the outbox or a
/// real SMTP server.
@Suite struct IncidentTests {
    let fixture: StoreFixture
    let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
    var templates: String { Paths.packageRoot.appendingPathComponent("Templates").path }

    init() throws { fixture = try StoreFixture() }

    /// The incident registry with endpoints at `url`, and the scenario's installations imported under it.
    func scenario(webhookURL url: String, installations: String = IncidentFixture.installations()) async throws -> Registry {
        let registry = try Registry.parse(IncidentFixture.registry(webhookURL: url), file: "partners.yaml")
        let drafts = try InstallationImport.parse(installations, file: "installations.csv", format: .csv, registry: registry)
        _ = try await fixture.store.importInstallations(drafts, registry: registry, keyRing: fixture.ring)
        return registry
    }

    func responder(_ registry: Registry, outbox: String, smtp: String? = nil) throws -> IncidentResponder {
        var webhookOptions = WebhookOptions()
        webhookOptions.policy = WebhookPolicy(allowInsecureLoopback: true)
        webhookOptions.scale = 0.002
        var send = SendOptions()
        send.retry = RetryPolicy(base: 0.05, maximum: 0.2, maxAttempts: 2)
        send.waitForRetries = 1
        var options = MailTransportOptions()
        options.outbox = outbox
        options.smtpURL = smtp
        let mail = options
        return IncidentResponder(
            store: fixture.store, registry: registry, keyRing: fixture.ring, templates: templates,
            webhooks: try WebhookDispatcher(store: fixture.store, keyRing: fixture.ring, options: webhookOptions, logger: logger),
            mail: { try mail.makeTransport() }, sendOptions: send, resolveSecret: { _ in IncidentFixture.webhookSecret },
            registryFile: "partners.yaml", logger: logger)
    }

    @Test func thePlanCountsExposedInstallationsCustomersAndContactsAndAlertsEachPartnerOnItsChannel() async throws {
        // Given the scenario, with one Globex installation already migrated (it no longer counts)
        let registry = try await scenario(webhookURL: "http://127.0.0.1:9/ok", installations: IncidentFixture.installations()
            + IncidentFixture.row("Hooli", "jira-server", contacts: ["x@hooli.example"], secret: "s") + "\n")
        let hooli = try #require(try await fixture.store.installationID(integration: "jira-server", customer: "Hooli"))
        _ = try await fixture.store.completeMigration(installation: hooli, verifiedWith: "GET /myself")

        // When an incident is planned with every exposed integration
        let prepared = try await responder(registry, outbox: fixture.dir.file("outbox")).prepare(IncidentRequest(title: "Backup"))

        // Then it counts five installations of four customers and five contacts; two partners by webhook, one by email
        let plan = prepared.plan
        #expect(plan.integrations.map(\.id) == ["jira-server", "github-pat", "pagerduty"])
        #expect(plan.integrations.map(\.installations) == [2, 1, 2])
        #expect((plan.installations, plan.customers, plan.contacts) == (5, 4, 5))
        #expect(plan.partners.map(\.id) == ["atlassian", "github", "pagerduty"])
        #expect(plan.partners.map(\.channel) == [.webhook, .email, .webhook])
        #expect(plan.partners.map(\.customers) == [2, 1, 2])
        #expect((plan.webhooks, plan.partnerEmails) == (2, 1))
        #expect(prepared.existing == nil)
        #expect(try await fixture.count("SELECT count(*) FROM incident") == 0, "planning records nothing")
    }

    @Test func openingTwiceMakesNothingTwiceAndAContactOfTwoIntegrationsGetsOneEmailNamingBoth() async throws {
        // Given the scenario and a receiver for the partners' webhooks
        let logs = try TemporaryDirectory()
        let receiver = try await TestServer.start(script: "webhook_receiver.py", arguments: ["--secret", IncidentFixture.webhookSecret, "--log", logs.file("log")])
        let registry = try await scenario(webhookURL: receiver.url("/ok"))
        let outbox = fixture.dir.file("outbox")
        let responder = try responder(registry, outbox: outbox)

        // When the incident is opened, then opened again with the same title
        let first = try await responder.run(try await responder.prepare(IncidentRequest(title: "Backup")), observer: SilentIncidentObserver())
        let second = try await responder.run(try await responder.prepare(IncidentRequest(title: "Backup")), observer: SilentIncidentObserver())

        // Then the second run resumed the first incident and made no campaign, recipient or message of its own
        #expect(!first.resumed && second.resumed)
        #expect(second.incident.id == first.incident.id)
        #expect(try await fixture.count("SELECT count(*) FROM incident") == 1)
        #expect(try await fixture.count("SELECT count(*) FROM campaign WHERE incident_id = 1") == 2)
        #expect(try await fixture.count("SELECT count(*) FROM recipient") == 6)
        #expect(try await fixture.count("SELECT count(*) FROM webhook_message WHERE incident_id = 1") == 2)
        #expect(second.customerEmails == nil && second.partnerEmails == nil && second.webhooks == nil)
        #expect(second.status.stages.filter { $0.stage != .resolve }.allSatisfy { $0.state == .done })
        #expect(second.status.undelivered == 0)

        // And each contact's one message (five in the outbox) lists every exposed installation of its customers
        let customers = try #require(first.status.stage(.customers)?.campaign)
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(outbox)/campaign-\(customers)").count == 5)
        let template = try EmailTemplate.load(named: "incident-notice", from: templates)
        let northwind = try await fixture.store.preview(campaign: customers, recipient: "sec@northwind.example", template: template).html
        #expect(northwind.contains("<li><strong>Jira Server</strong> at https://jira.northwind.example (Northwind): the password</li>"), "\(northwind)")
        #expect(northwind.contains("<li><strong>PagerDuty</strong> at northwind (Northwind): the api_key</li>"))
        let globex = try await fixture.store.preview(campaign: customers, recipient: "ops@globex.example", template: template).html
        #expect(globex.contains("Jira Server") && !globex.contains("PagerDuty"))
        #expect(requests(logs.file("log")).count == 2)
    }

    @Test func aResumeWithOtherOptionsIsRefusedAndNothingExposedOpensNoIncident() async throws {
        let registry = try await scenario(webhookURL: "http://127.0.0.1:9/ok")
        let responder = try responder(registry, outbox: fixture.dir.file("outbox"))
        var request = IncidentRequest(title: "Backup")
        request.integrations = ["jira-server"]
        _ = try await fixture.store.recordIncident(title: "Backup", integrations: ["jira-server"], emailTemplate: "incident-notice",
                                                   partnerTemplate: "partner-security-notice", event: "credentials.exposed", variables: [:])

        // An open incident is resumed only with the options it was opened with
        request.integrations = ["pagerduty"]
        request.event = "credentials.rotated"
        let refused = await #expect(throws: InputError.self) { try await responder.prepare(request) }
        let messages = refused?.diagnostics.map(\.description) ?? []
        #expect(messages.contains { $0.hasPrefix("--integration: error: incident 1 \"Backup\" is open with --integration jira-server, not pagerduty") })
        #expect(messages.contains { $0.hasPrefix("--event: error: incident 1 \"Backup\" is open with --event credentials.exposed") })

        // An integration with nothing exposed, an unknown one, and resolved as the alert event are refused by name
        var other = IncidentRequest(title: "Other")
        other.integrations = ["pagerduty", "nosuch"]
        other.event = "incident.resolved"
        try await fixture.store.writer.write { try $0.execute(sql: "UPDATE installation SET state = 'migrated' WHERE integration_id = 'pagerduty'") }
        let bad = await #expect(throws: InputError.self) { try await responder.prepare(other) }
        let problems = bad?.diagnostics.map(\.description) ?? []
        #expect(problems.contains { $0.contains("unknown integration 'nosuch'") })
        #expect(problems.contains { $0.contains("integration 'pagerduty' has no exposed installations") })
        #expect(problems.contains { $0.contains("'incident.resolved' cannot alert partners") })
        #expect(try await fixture.count("SELECT count(*) FROM incident") == 1)
    }

    @Test func theTimelineCountsMigrationsAndPurgesAndGroupsUndeliveredEmailsByReasonWithAddressesMasked() async throws {
        // Given an SMTP server that refuses Globex's contact with a reply quoting the address
        let mail = try TemporaryDirectory()
        let smtp = try await TestServer.start(script: "smtp_server.py", arguments: [
            "--store", mail.path, "--fault-spec", #"{"ops@globex.example": {"rcpt": 550, "text": "<ops@globex.example>: no such user", "enhanced": "5.1.1"}}"#,
        ])
        let logs = try TemporaryDirectory()
        let receiver = try await TestServer.start(script: "webhook_receiver.py", arguments: ["--secret", IncidentFixture.webhookSecret, "--log", logs.file("log")])
        let registry = try await scenario(webhookURL: receiver.url("/ok"))
        let responder = try responder(registry, outbox: fixture.dir.file("outbox"), smtp: "smtp://127.0.0.1:\(smtp.port)")
        let run = try await responder.run(try await responder.prepare(IncidentRequest(title: "Backup")), observer: SilentIncidentObserver())
        #expect(run.status.undelivered == 1)

        // When a reconnect link goes out and its page is viewed twice (one first view), two installations are migrated
        // (their passwords purged) and the incident is resolved
        let reconnect = try EmailTemplate.load(named: "reconnect-integration", from: templates)
        _ = try await fixture.store.draftCampaign(name: nil, template: reconnect, audience: .affected(integration: "jira-server"), registry: registry,
                                                  links: LinkIssue(publicURL: "https://rekey.example.com", keyRing: fixture.ring))
        let link = try #require(try await fixture.store.links().first)
        try await fixture.store.recordLinkOpened(link)
        try await fixture.store.recordLinkOpened(link)
        for (integration, customer) in [("jira-server", "Northwind"), ("pagerduty", "Umbrella")] {
            let id = try #require(try await fixture.store.installationID(integration: integration, customer: customer))
            _ = try await fixture.store.completeMigration(installation: id, verifiedWith: "GET /me")
        }
        let resolution = try await responder.resolve(run.incident.id, observer: SilentIncidentObserver())
        #expect(resolution.messages.count == 2 && resolution.states.values.allSatisfy { $0 == .delivered })
        let timeline = try await fixture.store.incidentTimeline(run.incident.id)

        // Then it has one line of each kind that happened, in time order, with the store's counts
        let kinds = timeline.events.map(\.kind)
        #expect(timeline.events.map(\.at) == timeline.events.map(\.at).sorted())
        #expect(kinds.first == .opened && kinds.last == .resolved)
        #expect(kinds.filter { $0 == .partnerAlerted }.count == 3)
        #expect(kinds.filter { $0 == .partnerConfirmed }.count == 2)
        let last = try #require(timeline.events.first { $0.kind == .lastCustomerEmailed })
        #expect(last.counts["sent"] == 4 && last.counts["failed"] == 1 && last.counts["contacts"] == 5)
        let failed = try #require(timeline.events.first { $0.kind == .customersNotEmailed })
        #expect(failed.summary == "1 customer email failed: 550 5.1.1 <…@…>: no such user", "\(failed.summary)")
        let opened = try #require(timeline.events.first { $0.kind == .linksOpened })
        #expect(opened.counts == ["opened": 1, "total": 1] && opened.summary.hasPrefix("1 reconnect link opened in the hour from"))
        let migrated = try #require(timeline.events.first { $0.kind == .installationsMigrated })
        #expect(migrated.counts == ["migrated": 2, "total": 2, "exposed": 5])
        let purged = try #require(timeline.events.first { $0.kind == .passwordsPurged })
        #expect(purged.counts == ["installations": 2, "fields": 2])
        let resolved = try #require(timeline.events.last)
        #expect(resolved.counts == ["webhooks": 2, "confirmed": 2])
        #expect(resolved.at == resolution.incident.resolvedAt)

        // And no customer, contact or address appears in it
        let text = timeline.text() + timeline.markdown()
        for name in ["Northwind", "Globex", "Initech", "Umbrella", "@northwind", "@globex", "@initech", "@umbrella"] {
            #expect(!text.contains(name), "\(name)")
        }
    }

    /// The receiver's log, one entry per request.
    func requests(_ log: String) -> [[String: Any]] {
        ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }
}
