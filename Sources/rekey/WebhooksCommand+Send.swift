import ArgumentParser
import Foundation
import RekeyKit

extension WebhooksCommand {
    struct Send: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "send",
            abstract: "Send an event to every partner endpoint subscribed to it, signed, and wait for the first attempts.",
            discussion: """
                The payload comes from Templates/webhooks/<event>.json.mustache with the --data object's fields as variables
                (and the whole object as data_json). Retries are kept in the store: `rekey worker` delivers them.
                Exits 0 when every message was delivered, 1 when some are still pending or failed.
                """)

        @OptionGroup var options: GlobalOptions
        @Option(help: ArgumentHelp("The event type, e.g. credentials.exposed.", valueName: "type")) var event: String
        @Option(name: .customLong("partner"), help: ArgumentHelp("Only this partner (repeatable).", valueName: "id")) var partners: [String] = []
        @Option(help: ArgumentHelp("A JSON object of event details.", valueName: "json")) var data = "{}"
        @Option(help: ArgumentHelp("Sending again with the same key creates nothing new.", valueName: "key")) var idempotencyKey: String?
        @Option(help: ArgumentHelp("Also wait for retries due within this many seconds.", valueName: "seconds")) var wait = 0.0
        @OptionGroup var delivery: WebhookDeliveryOptions
        @OptionGroup var progress: ProgressOptions
        @Flag(help: "Print the result as JSON.") var json = false

        struct Result: Encodable {
            var event: String
            var messages: [QueuedWebhook]
            var delivery: WebhookRunSummary
            /// Seconds per phase: registry, render, sync (endpoints and secrets), queue, delivery.
            var phases: [String: Double]
            /// CPU seconds (user + system, all threads) per phase.
            var phaseCPU: [String: Double]
        }

        func validate() throws {
            guard WebhookEndpoint.knownEvents.contains(event) else {
                throw ValidationError("unknown event '\(event)'; expected one of: \(WebhookEndpoint.knownEvents.joined(separator: ", "))")
            }
        }

        func run() async throws {
            let logger = options.makeLogger()
            var (phase, phaseCPUStart) = (Date(), processCPUSeconds())
            var phases: [String: Double] = [:]
            var phaseCPU: [String: Double] = [:]
            func done(_ name: String, _ what: String) {
                phases[name] = Date().timeIntervalSince(phase)
                phaseCPU[name] = processCPUSeconds() - phaseCPUStart
                logger.info("\(what) in \(String(format: "%.2f", phases[name]!)) s (CPU \(String(format: "%.2f", phaseCPU[name]!)) s)")
                (phase, phaseCPUStart) = (Date(), processCPUSeconds())
            }
            let registry = try options.loadRegistry()
            done("registry", "read the registry (\(registry.partners.count) partners)")
            let ring = try options.loadKeyRing()
            let store = try options.openStore(logger: logger, keyRing: ring)
            guard (try? JSONSerialization.jsonObject(with: Data(data.utf8))) is [String: Any] else {
                throw InputError([Diagnostic(file: "--data", message: "not a JSON object")])
            }

            // Every problem before anything is queued: unknown or unsubscribed partners, unsafe URLs, bad payloads.
            var problems: [Diagnostic] = []
            for id in partners where registry.partner(id)?.webhook == nil {
                problems.append(Diagnostic(file: options.registry, message: "partner '\(id)' has no webhook endpoint in the registry"))
            }
            let targets = registry.partners.filter { partner in
                guard let webhook = partner.webhook, webhook.events.contains(event) else { return false }
                return partners.isEmpty || partners.contains(partner.id)
            }
            for id in partners where registry.partner(id)?.webhook.map({ !$0.events.contains(event) }) == true {
                problems.append(Diagnostic(file: options.registry, message: "partner '\(id)' does not subscribe to \(event)"))
            }
            var checked: [String: String?] = [:]  // URL -> problem; most partners share few hosts
            for partner in targets {
                let webhook = partner.webhook!
                let problem = checked[webhook.url] ?? {
                    do { _ = try delivery.policy.check(webhook.url); return nil } catch { return "\(error)" }
                }()
                checked[webhook.url] = problem
                if let problem {
                    problems.append(Diagnostic(file: options.registry, line: webhook.urlLine, column: webhook.urlColumn,
                                               message: "partner '\(partner.id)': \(problem)"))
                }
            }
            let template = try WebhookTemplate.load(event: event, from: options.templates)
            let rendered = await template.renderPayloads(for: targets, registry: registry, data: data, timestamp: AppDatabase.timestamp(Date()))
            let bodies = rendered.bodies
            problems += rendered.problems
            guard problems.isEmpty else { throw InputError(problems) }
            done("render", "rendered \(bodies.count) payloads")
            guard !targets.isEmpty else {
                throw InputError([Diagnostic(file: options.registry, message: "no partner endpoint subscribes to \(event)")])
            }
            let secretProblems = try await store.syncWebhookEndpoints(registry: registry, keyRing: ring, resolve: resolveSecretReference,
                                                                      registryFile: options.registry)
            done("sync", "synced the endpoints and their signing secrets")
            let missing = targets.compactMap { secretProblems[$0.id] }
            guard missing.isEmpty else { throw InputError(missing) }

            let queued = try await store.enqueueWebhooks(event: event, bodies: bodies, idempotencyKey: idempotencyKey)
            done("queue", "queued \(queued.count) messages")
            let worker = try makeWorkerLoop(options: options, delivery: delivery, store: store, keyRing: ring, registry: registry, logger: logger)
            // Runs everything due (these messages among it): filtering by id would cost a list of all of them per claim.
            let display = progress.makeDisplay()
            let total = queued.filter(\.created).count  // a repeat under the same idempotency key sends nothing new
            let summary: WebhookRunSummary
            do {
                defer { display.finish() }
                summary = try await worker.webhooks.run(waitUpTo: wait) { display.update($0, total: total) }
            }
            done("delivery", "delivered \(summary.delivered) of \(summary.attempted) attempts")
            let states = try await store.webhookMessageStates(Set(queued.map(\.id)))
            if json {
                try Console.json(Result(event: event, messages: queued, delivery: summary, phases: phases, phaseCPU: phaseCPU))
            } else {
                for message in queued {
                    let state = states[message.id]?.rawValue ?? "?"
                    Console.out("\(message.partner)  \(message.id)  \(state)\(message.created ? "" : " (already sent with this idempotency key)")")
                }
                let pending = states.values.filter { $0 == .pending }.count
                if pending > 0, let next = summary.nextAttemptAt {
                    Console.out("\(pending) pending; next attempt at \(next); `rekey worker` delivers retries")
                }
                if !summary.disabledEndpoints.isEmpty {
                    Console.out("disabled endpoints: \(summary.disabledEndpoints.joined(separator: ", ")) (see `rekey webhooks status`)")
                }
            }
            if states.values.contains(where: { $0 != .delivered }) { throw ExitCode(1) }
        }
    }
}
