import ArgumentParser
import Foundation
import RekeyKit

extension IncidentCommand {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List incidents, with where each stands.")

        @OptionGroup var options: GlobalOptions
        @Flag(help: "Print every incident's status as JSON.") var json = false

        func run() async throws {
            let ring = try options.loadKeyRing()
            let store = try options.openStore(logger: options.makeLogger(), keyRing: ring)
            let statuses = try await store.incidentStatuses()
            if json { return try Console.json(statuses) }
            Console.out(Table.render(header: ["ID", "STATE", "STAGE", "OPENED", "EMAILED", "PARTNERS ALERTED", "TITLE"], rows: statuses.map { status in
                let customers = status.stage(.customers)?.emails ?? [:]
                let partners = status.stage(.partners)
                let alerted = (partners?.webhooks?["delivered"] ?? 0) + (partners?.emails?["sent"] ?? 0)
                let planned = status.stage(.audit)?.counts["partners"] ?? 0
                return ["\(status.incident.id)", status.incident.state.rawValue, status.current?.rawValue ?? "done", status.incident.openedAt,
                        "\(customers["sent"] ?? 0)/\(customers.values.reduce(0, +))", "\(alerted)/\(planned)", status.incident.title]
            }))
        }
    }
}
