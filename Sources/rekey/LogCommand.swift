import ArgumentParser
import RekeyKit

struct LogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "Read and check the audit log of what rekey did.",
        subcommands: [LogVerify.self, LogShow.self])
}

struct LogVerify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify", abstract: "Check the hash chain of the audit log; exits 1 at the first broken entry.")

    @OptionGroup var options: GlobalOptions
    @Flag(help: "Print the result as JSON.") var json = false

    func run() async throws {
        _ = try options.loadKeyRing()
        let store = try options.openStore(logger: options.makeLogger())
        let result = try await store.verifyAuditLog()
        if json {
            try Console.json(result)
        } else if result.ok {
            Console.out("audit log ok: \(result.entries) entries, chain intact")
        } else {
            Console.out("audit log BROKEN: \(result.problem ?? "unknown problem")")
        }
        if !result.ok { throw ExitCode(1) }
    }
}

struct LogShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Print the latest audit log entries.")

    @OptionGroup var options: GlobalOptions
    @Option(help: "How many entries.") var limit = 50
    @Flag(help: "Print the result as JSON.") var json = false

    func run() async throws {
        _ = try options.loadKeyRing()
        let store = try options.openStore(logger: options.makeLogger())
        let entries = try await store.auditEntries(limit: limit)
        if json { return try Console.json(entries) }
        Console.out(Table.render(header: ["SEQ", "AT", "ACTION", "SUBJECT", "DETAIL"], rows: entries.map {
            ["\($0.seq)", $0.at, $0.action, $0.subject, $0.detail]
        }))
    }
}
