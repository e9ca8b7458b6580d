import ArgumentParser
import RekeyKit

extension ReconnectCommand {
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "status",
            abstract: "Show each installation's reconnect state: not contacted, link sent, opened, started, migrated or failed (with its step).")

        @OptionGroup var options: GlobalOptions
        @Option(help: ArgumentHelp("Only this integration.", valueName: "id")) var integration: String?
        @Flag(help: "Print the result as JSON.") var json = false

        func run() async throws {
            let ring = try options.loadKeyRing()
            let store = try options.openStore(logger: options.makeLogger(), keyRing: ring)
            let status = try await store.reconnectStatus(integration: integration)
            if json { return try Console.json(status) }
            let states = ["not_contacted", "link_sent", "opened", "started", "migrated", "failed"]
            Console.out(Table.render(header: ["INTEGRATION", "INSTALLATIONS"] + states.map { $0.uppercased() } + ["LINK OPENS", "PROGRESS"],
                                     rows: status.integrations.map { line in
                [line.integration, "\(line.installations)"] + states.map { "\(line.states[$0] ?? 0)" }
                    + ["\(line.linkOpens)", Self.bar(line.states["migrated"] ?? 0, of: line.installations)]
            }))
            let open = status.installations.filter { $0.state != "migrated" }
            guard !open.isEmpty else { return }
            Console.out("")
            Console.out(Table.render(header: ["INSTALLATION", "INTEGRATION", "CUSTOMER", "STATE", "FAILED STEP", "UPDATED"], rows: open.map {
                [$0.installation, $0.integration, $0.customer, $0.state, $0.failedStep ?? "", $0.updatedAt ?? ""]
            }))
        }

        /// `[#####     ] 50%`
        static func bar(_ done: Int, of total: Int) -> String {
            guard total > 0 else { return "" }
            let filled = done * 10 / total
            return "[" + String(repeating: "#", count: filled) + String(repeating: " ", count: 10 - filled) + "] \(done * 100 / total)%"
        }
    }
}
