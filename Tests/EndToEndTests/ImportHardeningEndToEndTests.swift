import Foundation
import RekeyTestSupport
import Testing

/// Careless and hostile import files, through the built binary: exit 2, the place, no secret, nothing written.
@Suite struct ImportHardeningEndToEndTests {
    /// Imports `name`, expects it refused with exit 2, and checks that nothing reached the store.
    func refused(_ rekey: Rekey, _ name: String) async throws -> CommandResult {
        let result = try await rekey("installations", "import", name)
        #expect(result.status == 2, "\(result.stdout)\(result.stderr)")
        let list = try await rekey("installations", "list", "--json")
        #expect((try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [Any])?.isEmpty == true, "\(list.stdout)")
        return result
    }

    @Test func aHeaderThatDoesNotMatchItsDataNeverPrintsASecretAndCapsTheList() async throws {
        let rekey = try Rekey()
        try await rekey("init")
        // secret.api_key and contacts swapped in the header: every password lands under contacts
        let rows = (0..<250).map { "Cust\($0),pagerduty,c\($0)@acme.example,acme\($0),CANARYswap\($0)pw" }
        try rekey.dir.write("swapped.csv", (["customer,integration,secret.api_key,config.subdomain,contacts"] + rows).joined(separator: "\n"))
        let swapped = try await refused(rekey, "swapped.csv")
        #expect(!(swapped.stdout + swapped.stderr).contains("CANARY"))
        #expect(swapped.stderr.contains("swapped.csv:2:39: error: customer 'Cust0': the contact is not an email address"))
        let listed = swapped.stderr.split(separator: "\n").filter { $0.contains(": error: ") }
        #expect(listed.count == 100)
        #expect(swapped.stderr.contains("\n… and 150 more\n250 errors"))

        // a secret under integration, and in a JSON Lines contacts array
        try rekey.dir.write("integration.csv", """
            customer,secret.api_key,contacts,config.subdomain,integration
            Acme,pagerduty,a@acme.example,acme,CANARYintegration
            """)
        let integration = try await refused(rekey, "integration.csv")
        #expect(integration.stderr.contains("integration.csv:2:36: error: unknown integration; the registry has:"))
        try rekey.dir.write("contacts.jsonl", """
            {"customer": "Acme", "integration": "pagerduty", "contacts": ["a@acme.example", "CANARYcontact"], "config": {"subdomain": "acme"}, "secrets": {"api_key": "k"}}
            """)
        let contacts = try await refused(rekey, "contacts.jsonl")
        #expect(contacts.stderr.contains("error: customer 'Acme': contact 2 of 2 is not an email address"))
        for result in [integration, contacts] {
            #expect(!(result.stdout + result.stderr).contains("CANARY"), "\(result.stderr)")
        }
    }

    @Test func aDuplicateCSVColumnOrJSONKeyIsRefusedAtItsPlace() async throws {
        let rekey = try Rekey()
        try await rekey("init")
        // a second customer column would have filed the secret under another customer
        try rekey.dir.write("twice.csv", """
            customer,integration,contacts,config.subdomain,secret.api_key,customer
            Acme,pagerduty,a@acme.example,acme,CANARY-twice,Globex
            """)
        let csv = try await refused(rekey, "twice.csv")
        #expect(csv.stderr.contains("twice.csv:1:63: error: duplicate column 'customer' (first at column 1)"), "\(csv.stderr)")
        try rekey.dir.write("twice.jsonl", """
            {"customer": "Acme", "integration": "pagerduty", "contacts": ["a@acme.example"], "config": {"subdomain": "acme"}, "secrets": {"api_key": "CANARY-a", "api_key": "CANARY-b"}, "customer": "Globex"}
            """)
        let jsonl = try await refused(rekey, "twice.jsonl")
        #expect(jsonl.stderr.contains("twice.jsonl:1:150: error: invalid JSON: duplicate key 'api_key' (first at column 127)"), "\(jsonl.stderr)")
        for result in [csv, jsonl] { #expect(!(result.stdout + result.stderr).contains("CANARY")) }
    }

    @Test func invalidUTF8IsReportedAtItsLineAndColumn() async throws {
        let rekey = try Rekey()
        try await rekey("init")
        var bytes = Data("customer,integration,contacts,config.subdomain,secret.api_key\n".utf8)
        for index in 0..<3 { bytes += Data("Cust\(index),pagerduty,c@acme.example,acme\(index),k\(index)\n".utf8) }
        bytes += Data("Ünïcode,pagerduty,c@acme.example,sub".utf8) + Data([0xFF, 0xFE]) + Data(",k\n".utf8)
        try bytes.write(to: URL(fileURLWithPath: rekey.dir.file("latin1.csv")))
        let result = try await refused(rekey, "latin1.csv")
        #expect(result.stderr.contains("latin1.csv:5:37: error: the file is not UTF-8 text"), "\(result.stderr)")

        var registry = try Data(contentsOf: URL(fileURLWithPath: rekey.dir.file("partners.yaml")))
        registry += Data("# caf".utf8) + Data([0xE9]) + Data("\n".utf8)
        try registry.write(to: URL(fileURLWithPath: rekey.dir.file("partners.yaml")))
        let lines = String(decoding: registry, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).count - 1
        let check = try await rekey("registry", "check")
        #expect(check.status == 2)
        #expect(check.stderr.contains("partners.yaml:\(lines):6: error: the registry is not UTF-8 text"), "\(check.stderr)")
    }
}
