import Foundation
import RekeyKit
import RekeyTestSupport
import Testing

@Suite struct InstallationImportTests {
    let registry: Registry

    init() throws { registry = try Registry.load(path: Paths.registry) }

    func errors(_ text: String, _ format: InstallationImport.Format) -> [String] {
        do {
            _ = try InstallationImport.parse(text, file: "in", format: format, registry: registry)
            return []
        } catch {
            return error.diagnostics.map { "\($0.line ?? 0):\($0.column ?? 0) \($0.message)" }
        }
    }

    @Test func quotedCSVFieldsKeepCommasQuotesAndNewlines() throws {
        let text = """
            customer,integration,contacts,config.subdomain,secret.api_key
            "Acme, Inc.",pagerduty,"a@acme.example; b@acme.example",acme,"to""ken,
            with newline"
            """
        let drafts = try InstallationImport.parse(text, file: "in", format: .csv, registry: registry)
        #expect(drafts.count == 1)
        #expect(drafts[0].customer == "Acme, Inc.")
        #expect(drafts[0].contacts == ["a@acme.example", "b@acme.example"])
        #expect(drafts[0].secrets["api_key"] == Secret("to\"ken,\nwith newline"))
    }

    @Test func everyBadCSVRowIsReportedWithItsLineAndColumn() {
        let text = """
            customer,integration,contacts,config.subdomain,secret.api_key
            Acme,pagerduty,a@acme.example,acme,SECRET-ONE
            Globex,pagerdutty,b@globex.example,globex,SECRET-TWO
            Initech,pagerduty,not-an-email,initech,SECRET-THREE
            Acme,pagerduty,a@acme.example,acme2,SECRET-FOUR
            Umbrella,pagerduty,u@umbrella.example,umbrella,
            """
        let found = errors(text, .csv)
        #expect(found.count == 4, "\(found)")
        #expect(found.contains { $0.hasPrefix("3:8 unknown integration; the registry has:") })
        #expect(found.contains { $0.hasPrefix("4:19 customer 'Initech': the contact is not an email address") })
        #expect(found.contains { $0.hasPrefix("5:1 customer 'Acme' already has a pagerduty installation at line 2") })
        #expect(found.contains { $0.hasPrefix("6:1 customer 'Umbrella': missing secret field 'api_key'") })
        #expect(!found.joined().contains("SECRET-"))
    }

    @Test func csvStructureErrorsNameThePlace() {
        #expect(errors("customer,integration,contacts,bogus\n", .csv) == [
            "1:31 unknown column 'bogus'; expected customer, integration, contacts, config.NAME or secret.NAME",
        ])
        #expect(errors("customer,integration,contacts\nA,pagerduty\n", .csv).first?.hasPrefix("2:1 expected 3 fields") == true)
        #expect(errors("customer,integration,contacts\n\"A,pagerduty,a@b.example\n", .csv).first?.hasPrefix("2:1 malformed CSV: a quoted field is never closed") == true)
    }

    @Test func jsonLinesRowsAreValidatedLikeCSV() throws {
        let text = """
            {"customer": "Acme", "integration": "jira-server", "contacts": ["a@acme.example"], "config": {"base_url": "https://j.acme.example", "username": "svc"}, "secrets": {"password": "pw"}}

            {"customer": "Globex", "integration": "jira-server", "contacts": ["b@globex.example"], "config": {"base_url": "https://j.globex.example", "username": "svc", "colour": "red"}, "secrets": {"password": "pw", "pin": "1234"}}
            not json
            """
        let found = errors(text, .jsonl)
        #expect(found.count == 3, "\(found)")
        #expect(found.contains { $0.hasPrefix("3:") && $0.contains("unknown config field 'colour'") })
        #expect(found.contains { $0.hasPrefix("3:") && $0.contains("unknown secret field 'pin'") })
        #expect(found.contains { $0 == "4:1 invalid JSON: expected a value" })
        #expect(!found.joined().contains("1234"))
    }

    @Test func formatIsTakenFromTheExtensionOrTheContent() {
        #expect(InstallationImport.format(of: "a.csv", text: "{") == .csv)
        #expect(InstallationImport.format(of: "a.jsonl", text: "x") == .jsonl)
        #expect(InstallationImport.format(of: "a.txt", text: "  {\"a\":1}") == .jsonl)
        #expect(InstallationImport.format(of: "a.txt", text: "customer,integration") == .csv)
    }

    @Test func emailValidation() {
        for good in ["a@b.example", "first.last+tag@sub.domain.example", "o'brien@xn--bcher-kva.example", "ü@bücher.example"] where !good.hasPrefix("ü") {
            #expect(EmailAddress.isValid(good), "\(good)")
        }
        for bad in ["admin@\u{430}cme.example", "ü@bücher.example", "a@bücher.example", "", "a", "a@b", "@b.example", "a@.example", "a b@c.example", "a@b.example\r\nBcc: x@y.example", "a..b@c.example", "a@b..example"] {
            #expect(!EmailAddress.isValid(bad), "\(bad)")
        }
    }
}
