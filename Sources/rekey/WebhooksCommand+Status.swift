import ArgumentParser
import RekeyKit

extension WebhooksCommand {
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "status", abstract: "Per-endpoint health, pending messages, and the last attempt. Never shows a secret.")

        @OptionGroup var options: GlobalOptions
        @Option(name: .customLong("partner"), help: ArgumentHelp("Only this partner (repeatable).", valueName: "id")) var partners: [String] = []
        @Flag(help: "Only endpoints that are disabled, failing or holding undelivered messages.") var needsAttention = false
        @Flag(help: "Print the result as JSON.") var json = false

        func run() async throws {
            let ring = try options.loadKeyRing()
            let store = try options.openStore(logger: options.makeLogger(), keyRing: ring)
            var endpoints = try await store.webhookStatus()
            let known = Set(endpoints.map(\.partner))
            let unknown = partners.filter { !known.contains($0) }
            guard unknown.isEmpty else {
                throw InputError(unknown.map {
                    Diagnostic(file: options.registry, message: "partner '\($0)' has no webhook endpoint in the store")
                })
            }
            if !partners.isEmpty { endpoints = endpoints.filter { partners.contains($0.partner) } }
            if needsAttention { endpoints = endpoints.filter(\.needsAttention) }
            if json { return try Console.json(endpoints) }
            Console.out(Table.render(header: ["PARTNER", "STATE", "PENDING", "DELIVERED", "FAILED", "NEXT ATTEMPT", "LAST", "URL"], rows: endpoints.map {
                let last = $0.lastAttempt.map { a in a.status.map { "HTTP \($0)" } ?? (a.error ?? "-") } ?? "-"
                return [$0.partner, $0.state.rawValue + ($0.disabledReason.map { " (\($0))" } ?? ""), "\($0.pending)", "\($0.delivered)", "\($0.failed)",
                        $0.nextAttemptAt ?? "-", last, $0.url]
            }))
        }
    }
}
