import ArgumentParser
import Foundation
import RekeyKit

extension IncidentCommand {
    struct Resolve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "resolve",
            abstract: "Resolve an incident: record the time and send incident.resolved to its partners' endpoints.",
            discussion: """
                Partners of the incident's integrations whose endpoint subscribes to incident.resolved get it, signed, with the \
                number of their installations still exposed. Running it again records nothing new and delivers what is still \
                due. Exits 0 when every message was delivered, 1 when some were not (yet).
                """)

        @OptionGroup var options: GlobalOptions
        @Argument(help: "The incident id.") var id: Int64
        @Option(help: ArgumentHelp("Also wait for webhook retries due within this many seconds.", valueName: "seconds")) var webhookWait = 0.0
        @OptionGroup var webhooks: WebhookDeliveryOptions
        @OptionGroup var progress: ProgressOptions
        @Flag(help: "Print the result as JSON.") var json = false

        func validate() throws {
            guard webhookWait >= 0 else { throw ValidationError("--webhook-wait must not be negative") }
        }

        func run() async throws {
            let responder = try makeIncidentResponder(options: options, webhooks: webhooks, webhookWait: webhookWait, mail: nil)
            let resolution = try await responder.resolve(id, observer: ConsoleIncidentObserver(progress: progress))
            if json {
                try Console.json(resolution)
            } else {
                let incident = resolution.incident
                Console.out("incident \(incident.id) \"\(incident.title)\" resolved at \(incident.resolvedAt ?? "?")"
                    + (resolution.alreadyResolved ? " (earlier)" : ""))
                for message in resolution.messages {
                    Console.out("\(message.partner)  \(message.id)  \(resolution.states[message.id]?.rawValue ?? "?")")
                }
                if !resolution.notTold.isEmpty {
                    Console.out("no endpoint for \(Incident.resolvedEvent), not told: \(resolution.notTold.joined(separator: ", "))")
                }
            }
            if resolution.states.values.contains(where: { $0 != .delivered }) { throw ExitCode(1) }
        }
    }
}
