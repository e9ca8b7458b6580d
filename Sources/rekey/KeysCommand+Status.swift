import ArgumentParser
import RekeyKit

extension KeysCommand {
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "status", abstract: "Count sealed values per key version.")

        @OptionGroup var options: GlobalOptions
        @Flag(help: "Print the result as JSON.") var json = false

        func run() async throws {
            let ring = try options.loadKeyRing()
            let store = try options.openStore(logger: options.makeLogger(), keyRing: ring)
            let usage = try await store.keyUsage(keyRing: ring)
            if json { return try Console.json(KeysReport(activeVersion: ring.activeVersion, keys: usage)) }
            Console.out(Table.render(header: ["VERSION", "STATE", "CREATED", "VALUES"], rows: usage.map {
                ["\($0.version)", $0.missing ? "MISSING FROM RING" : $0.active ? "active" : "retired", $0.created ?? "-", "\($0.values)"]
            }))
            if usage.contains(where: { !$0.active && $0.values > 0 }) {
                Console.out("\nSome values are sealed under an older key: run `rekey keys rewrap`.")
            }
            if usage.contains(where: \.missing) { throw ExitCode(1) }
        }
    }
}

struct KeysReport: Encodable {
    var activeVersion: Int
    var keys: [KeyUsage]
}
