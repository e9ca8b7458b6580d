import ArgumentParser
import RekeyKit

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
