import ArgumentParser
import Foundation
import RekeyKit

extension CampaignCommand {
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "status", abstract: "Counts per delivery state, the rate, and the failures with their reasons.")

        @OptionGroup var options: GlobalOptions
        @Argument(help: "The campaign id.") var id: Int64
        @Option(help: ArgumentHelp("List at most this many undelivered recipients in the text view (0: all; --json lists all).",
                                   valueName: "n"))
        var limit = 50
        @Flag(help: "Print the result as JSON.") var json = false

        func validate() throws {
            guard limit >= 0 else { throw ValidationError("--limit must be 0 (all) or more") }
        }

        func run() async throws {
            let ring = try options.loadKeyRing()
            let store = try options.openStore(logger: options.makeLogger(), keyRing: ring)
            let status = try await store.campaignStatus(id, failureLimit: json || limit == 0 ? nil : limit)
            if json { return try Console.json(status) }
            let c = status.campaign
            Console.out("campaign \(c.id) \(c.name): \(c.state.rawValue), template \(c.template), \(status.total) recipients")
            Console.out(DeliveryState.allCases.map { "\($0.rawValue) \(status.counts[$0.rawValue] ?? 0)" }.joined(separator: "  "))
            if let rate = status.rate { Console.out(String(format: "rate %.0f msg/s", rate)) }
            if let next = status.nextRetryAt { Console.out("next retry \(next)") }
            if !status.failures.isEmpty {
                Console.out("")
                Console.out(Table.render(header: ["RECIPIENT", "STATE", "ATTEMPTS", "CODE", "REASON"], rows: status.failures.map {
                    [$0.email, $0.state.rawValue, "\($0.attempts)", [$0.code.map(String.init), $0.enhanced].compactMap { $0 }.joined(separator: " "), $0.reason ?? ""]
                }))
                if status.undelivered > status.failures.count {
                    Console.out("… and \(status.undelivered - status.failures.count) more undelivered (\(status.undelivered) in all): "
                        + "`--limit 0` lists every one, as `--json` does")
                }
            }
        }
    }
}
