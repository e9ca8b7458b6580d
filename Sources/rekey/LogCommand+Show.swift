import ArgumentParser
import RekeyKit

extension LogCommand {
    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Print the latest audit log entries.")

        @OptionGroup var options: GlobalOptions
        @Option(help: "How many entries.") var limit = 50
        @Flag(help: "Print the result as JSON.") var json = false

        func run() async throws {
            let ring = try options.loadKeyRing()
            let store = try options.openStore(logger: options.makeLogger(), keyRing: ring)
            let entries = try await store.auditEntries(limit: limit)
            if json { return try Console.json(entries) }
            Console.out(Table.render(header: ["SEQ", "AT", "ACTION", "SUBJECT", "DETAIL"], rows: entries.map {
                ["\($0.seq)", $0.at, $0.action, $0.subject, $0.detail]
            }))
        }
    }
}
