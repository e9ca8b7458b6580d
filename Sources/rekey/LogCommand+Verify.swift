import ArgumentParser
import RekeyKit

extension LogCommand {
    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify", abstract: "Check the hash chain of the audit log; exits 1 at the first broken entry.",
            discussion: """
                The chain shows an entry edited, deleted or reordered, but not the newest entries deleted, nor a log rebuilt
                from scratch. For those, keep the anchor it prints somewhere rekey cannot write, and pass it later with --anchor.
                """)

        @OptionGroup var options: GlobalOptions
        @Option(help: ArgumentHelp("An anchor printed by an earlier verify: the log must still hold that entry, unchanged.", valueName: "seq:hash"))
        var anchor: String?
        @Flag(help: "Print the result as JSON.") var json = false

        func validate() throws {
            if let anchor, AuditAnchor(anchor) == nil {
                throw ValidationError("--anchor takes SEQ:HASH as `rekey log verify` prints it (64 lowercase hex digits after the colon)")
            }
        }

        func run() async throws {
            let ring = try options.loadKeyRing()
            let store = try options.openStore(logger: options.makeLogger(), keyRing: ring)
            let result = try await store.verifyAuditLog(anchor: anchor.flatMap(AuditAnchor.init))
            if json {
                try Console.json(result)
            } else if result.ok {
                Console.out("audit log ok: \(result.entries) entries, chain intact" + (anchor.map { "; anchor \($0) holds" } ?? ""))
                if let head = result.anchor {
                    Console.out("anchor: \(head) (keep it where rekey cannot write; `rekey log verify --anchor` checks the log still holds it)")
                }
            } else {
                Console.out("audit log BROKEN: \(result.problem ?? "unknown problem")")
            }
            if !result.ok { throw ExitCode(1) }
        }
    }
}
