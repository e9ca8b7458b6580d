import Foundation
import RekeyKit
import RekeyTestSupport
import Testing

@Suite struct EmailTemplateTests {
    static let shipped = ["credential-exposure", "forced-rotation", "reconnect-integration", "password-purged", "partner-security-notice"]
    var templates: String { Paths.packageRoot.appendingPathComponent("Templates").path }

    @Test(arguments: shipped)
    func shippedTemplatesLoadAndRender(_ name: String) throws {
        let template = try EmailTemplate.load(named: name, from: templates)
        var values: [String: Any] = [:]
        for variable in template.variables { values[variable] = "<\(variable) & co>" }
        let rendered = template.render(values)
        // The text part is not escaped; the HTML part is.
        #expect(rendered.text.contains("<\(template.variables[0]) & co>"))
        #expect(rendered.html.contains("&lt;\(template.variables[0]) &amp; co&gt;"))
        #expect(!rendered.html.contains("<\(template.variables[0]) & co>"))
        #expect(!rendered.subject.contains("\n"))
        #expect(template.missingVariables(in: values).isEmpty)
        #expect(template.missingVariables(in: [:]) == template.variables)
    }

    @Test func reconnectTemplateCarriesThePerInstallationLink() throws {
        let template = try EmailTemplate.load(named: "reconnect-integration", from: templates)
        #expect(template.variables.contains("reconnect_link"))
        let rendered = template.render(["customer": "Acme", "integration_name": "Jira Server", "reconnect_link": "https://acme.example/r/inst_1?x=1&y=2"])
        #expect(rendered.text.contains("https://acme.example/r/inst_1?x=1&y=2"))
        #expect(rendered.html.contains("href=\"https://acme.example/r/inst_1?x=1&amp;y=2\""))
    }

    @Test func theIncidentNoticeListsEveryInstallationOfTheContactInTextAndHTML() throws {
        let template = try EmailTemplate.load(named: "incident-notice", from: templates)
        #expect(template.variables == ["customer", "incident_date", "installations"])
        let rendered = template.render([
            "customer": "Northwind", "incident_date": "2026-11-28", "contact_name": "Zoë <Ops>",
            "installations": [
                ["integration_name": "Jira Server", "site": "https://jira.northwind.example", "customer": "Northwind", "exposed_fields": "password"],
                ["integration_name": "PagerDuty", "customer": "Northwind & Co", "exposed_fields": "api_key"],
            ] as [Any],
        ])
        #expect(rendered.subject == "Security notice: integration credentials Northwind stored with Acme were exposed")
        #expect(rendered.text.contains("""
            these integrations:

              - Jira Server at https://jira.northwind.example (Northwind): the password
              - PagerDuty (Northwind & Co): the api_key

            What you should do now:
            """), "\(rendered.text)")
        #expect(rendered.html.contains("<li><strong>PagerDuty</strong> (Northwind &amp; Co): the api_key</li>"), "\(rendered.html)")
        #expect(rendered.html.contains("Hello Zoë &lt;Ops&gt;,"))
    }

    @Test func aListItemFieldIsAVariableOnlyInsideItsListsSection() throws {
        let dir = try TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir.file("email/t"), withIntermediateDirectories: true)
        try dir.write("email/t/template.yaml", """
            from: "A <a@acme.example>"
            subject: "Hi"
            variables: [things]
            lists: {things: [name]}
            """)
        try dir.write("email/t/text.mustache", "{{#things}}{{name}}{{/things}}\n{{name}}\n")
        try dir.write("email/t/html.mustache", "{{#things}}<b>{{name}}</b>{{/things}}")
        let error = #expect(throws: InputError.self) { try EmailTemplate.load(named: "t", from: dir.path) }
        #expect(error?.diagnostics.map { "\($0.line ?? 0):\($0.column ?? 0) \($0.message)" }
            == ["2:1 uses {{name}}, which template.yaml does not declare in 'variables'"])

        try dir.write("email/t/text.mustache", "{{#things}}{{name}}{{/things}}\n")
        #expect(try EmailTemplate.load(named: "t", from: dir.path).lists == ["things": ["name"]])
    }

    @Test func anUndeclaredVariableIsReportedWhereItIsUsed() throws {
        let dir = try TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir.file("email/t"), withIntermediateDirectories: true)
        try dir.write("email/t/template.yaml", "from: \"A <a@acme.example>\"\nsubject: \"Hi {{customer}}\"\nvariables: [customer]\n")
        try dir.write("email/t/text.mustache", "Hello {{customer}},\nyour {{secret_thing}} leaked.\n")
        try dir.write("email/t/html.mustache", "<p>{{customer}}</p>")
        let error = #expect(throws: InputError.self) { try EmailTemplate.load(named: "t", from: dir.path) }
        #expect(error?.diagnostics.count == 1)
        #expect(error?.diagnostics.first?.file.hasSuffix("email/t/text.mustache") == true)
        #expect(error?.diagnostics.first.map { "\($0.line ?? 0):\($0.column ?? 0)" } == "2:6")
        #expect(error?.diagnostics.first?.message.contains("{{secret_thing}}") == true)
    }

    @Test func aMissingTemplateListsTheAvailableOnes() {
        let error = #expect(throws: InputError.self) { try EmailTemplate.load(named: "nope", from: templates) }
        #expect(error?.description.contains("credential-exposure") == true)
    }

    @Test func brokenManifestKeysAreReportedWithLineAndColumn() throws {
        let dir = try TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir.file("email/t"), withIntermediateDirectories: true)
        try dir.write("email/t/template.yaml", "from: \"A <a@acme.example>\"\nsubjekt: \"Hi\"\nvariables: []\n")
        try dir.write("email/t/text.mustache", "x")
        try dir.write("email/t/html.mustache", "x")
        let error = #expect(throws: InputError.self) { try EmailTemplate.load(named: "t", from: dir.path) }
        let places = error?.diagnostics.map { "\($0.line ?? 0):\($0.column ?? 0) \($0.message)" } ?? []
        #expect(places.contains { $0.hasPrefix("2:1 unknown key 'subjekt'") })
        #expect(places.contains { $0.hasPrefix("1:1 missing required key 'subject'") })
    }
}

@Suite struct DeliveryRulesTests {
    @Test(arguments: [
        ("250 2.0.0 OK queued", DeliveryResult.Outcome.accepted, 250, "2.0.0"),
        ("451 4.3.0 Try again later", .transient, 451, "4.3.0"),
        ("421 Service not available", .transient, 421, nil),
        ("550 5.1.1 No such user", .permanent, 550, "5.1.1"),
        ("554-5.7.1 Rejected", .permanent, 554, "5.7.1"),
        (" 250 2.1.5 Ok \r\n", .accepted, 250, "2.1.5"),
        ("250", .accepted, 250, nil),
        ("452 22.0.0 not an enhanced code", .transient, 452, nil),
        ("452 3.0.0 no such class", .transient, 452, nil),
        ("452 4..0 empty part", .transient, 452, nil),
        ("250 2.0.0.1 four parts", .accepted, 250, nil),
        ("25x odd", .transient, nil, nil),
        ("+12 signed", .transient, nil, nil),
        ("", .transient, nil, nil),
    ] as [(String, DeliveryResult.Outcome, Int?, String?)])
    func smtpRepliesAreClassified(line: String, outcome: DeliveryResult.Outcome, code: Int?, enhanced: String?) {
        let result = DeliveryResult.smtpReply(line)
        #expect(result.outcome == outcome)
        #expect(result.code == code)
        #expect(result.enhanced == enhanced)
        #expect(result.text == line.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    @Test func backoffDoublesWithinTwentyPercentAndIsCapped() {
        let policy = RetryPolicy(base: 10, maximum: 100, maxAttempts: 5)
        for (attempts, nominal) in [(1, 10.0), (2, 20.0), (3, 40.0), (4, 80.0), (5, 100.0), (9, 100.0)] {
            for _ in 0..<50 {
                let delay = policy.delay(afterAttempts: attempts)
                #expect(delay >= nominal * 0.8 && delay <= nominal * 1.2, "attempt \(attempts): \(delay)")
            }
        }
        #expect(policy.delay(afterAttempts: 1, atLeast: 60) >= 60)
    }

    @Test func campaignTransitionsAreStrict() {
        #expect(CampaignState.draft.canMove(to: .sending))
        #expect(!CampaignState.draft.canMove(to: .finished))
        #expect(CampaignState.sending.canMove(to: .paused))
        #expect(CampaignState.paused.canMove(to: .sending))
        #expect(!CampaignState.cancelled.canMove(to: .sending))
        #expect(!CampaignState.finished.canMove(to: .sending))
        for state in CampaignState.allCases { #expect(!CampaignState.cancelled.canMove(to: state)) }
    }
}
