import ArgumentParser
import RekeyKit

struct Audit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Report, per integration and partner, which stored credentials are exposed and who is affected.",
        discussion: "Exits 1 when any installation is exposed, so it can gate a pipeline.")

    @OptionGroup var options: GlobalOptions
    @Flag(help: "Print the report as JSON.") var json = false

    func run() async throws {
        let registry = try options.loadRegistry()
        let ring = try options.loadKeyRing()
        let store = try options.openStore(logger: options.makeLogger(), keyRing: ring)
        let report = try await store.auditReport(registry: registry)
        if json {
            try Console.json(report)
        } else {
            print(report)
        }
        if report.anythingExposed { throw ExitCode(1) }
    }

    private func print(_ report: AuditReport) {
        let header = ["INTEGRATION", "PARTNER", "AUTH", "STORAGE", "INSTALLS", "PW/TOKEN", "EXPOSED", "MIGRATED", "ON PW", "CUSTOMERS", "CONTACTS"]
        let rows = report.integrations.map {
            [$0.id, $0.partner, $0.auth.rawValue, $0.storage.rawValue, "\($0.installations)", "\($0.plaintextClass)",
             "\($0.exposed)", "\($0.migrated)", $0.installations == 0 ? "-" : "\(Int(($0.stillOnPasswords * 100).rounded()))%",
             "\($0.customersAffected)", "\($0.contactsAffected)"]
        }
        Console.out(Table.render(header: header, rows: rows))
        Console.out("")
        let partnerHeader = ["PARTNER", "INTEGRATIONS", "INSTALLS", "PW/TOKEN", "EXPOSED", "CUSTOMERS", "CONTACTS"]
        let partnerRows = report.partners.map {
            [$0.id, $0.integrations.joined(separator: ","), "\($0.installations)", "\($0.plaintextClass)", "\($0.exposed)",
             "\($0.customersAffected)", "\($0.contactsAffected)"]
        }
        Console.out(Table.render(header: partnerHeader, rows: partnerRows))
        Console.out("")
        let t = report.totals
        if report.anythingExposed {
            Console.out("EXPOSED: \(t.exposed) of \(t.installations) installations store credentials in plaintext; "
                + "\(t.customersAffected) customers and \(t.contactsAffected) contacts affected.")
        } else {
            Console.out("No exposed installations (\(t.installations) checked).")
        }
    }
}
