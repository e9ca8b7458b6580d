import ArgumentParser
import Foundation
import RekeyKit

extension IncidentCommand {
    struct Open: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "open",
            abstract: "Open an incident and run its response: audit, one email per contact, an alert per partner, then send it all.",
            discussion: """
                Each contact gets one email listing every exposed installation of the customers it looks after. Each partner \
                with an exposed integration is alerted by a signed webhook where its endpoint subscribes to --event, else by \
                --partner-template to its security contact; alerts carry counts only. Progress goes to stderr, stage by stage.
                Resumable: run it again with the same title (after a crash, or to finish retries) and it carries on where it \
                stopped, making nothing twice. Exits 0 when every message was delivered, 1 when some were not (yet), 2 on bad \
                input (nothing recorded or sent).
                """)

        @OptionGroup var options: GlobalOptions
        @Argument(help: "The incident's title; an open incident with this title is resumed.") var title: String
        @Option(name: .customLong("integration"),
                help: ArgumentHelp("Cover this integration (repeatable; default: every integration with exposed installations).", valueName: "id"))
        var integrations: [String] = []
        @Option(help: ArgumentHelp("The customers' email template (default \(IncidentRequest.defaultEmailTemplate)).", valueName: "name"))
        var emailTemplate: String?
        @Option(help: ArgumentHelp("The email for partners without a webhook endpoint (default \(IncidentRequest.defaultPartnerTemplate)).",
                                   valueName: "name"))
        var partnerTemplate: String?
        @Option(help: ArgumentHelp("The webhook event that alerts partners (default \(IncidentRequest.defaultEvent)).", valueName: "type"))
        var event: String?
        @Option(name: .customLong("var"), help: ArgumentHelp("A variable for every email, such as incident_date=2026-11-29.", valueName: "key=value"))
        var variables: [String] = []
        @Flag(help: "Print the plan with its counts (customers, contacts, partners, webhooks); record and send nothing.") var dryRun = false
        @Option(help: ArgumentHelp("Also wait for webhook retries due within this many seconds.", valueName: "seconds")) var webhookWait = 0.0
        @OptionGroup var delivery: DeliveryOptions
        @OptionGroup var webhooks: WebhookDeliveryOptions
        @Flag(help: "Print the result as JSON.") var json = false

        func validate() throws {
            guard !title.trimmingCharacters(in: .whitespaces).isEmpty else { throw ValidationError("the incident's title must not be empty") }
            if let unsafe = DisplaySafety.firstUnsafe(in: title) {
                throw ValidationError("the incident's title contains a control or bidirectional character (\(unsafe))")
            }
            try validateVariables(variables)
            guard webhookWait >= 0 else { throw ValidationError("--webhook-wait must not be negative") }
        }

        /// What `--dry-run --json` prints.
        struct Plan: Encodable {
            var dryRun = true
            var title: String
            /// The open incident this run would resume.
            var resumes: Int64?
            var plan: IncidentPlan
        }

        func run() async throws {
            let responder = try makeIncidentResponder(options: options, webhooks: webhooks, webhookWait: webhookWait,
                                                           mail: dryRun ? nil : delivery.transportOptions(), sendOptions: delivery.sendOptions())
            var request = IncidentRequest(title: title)
            request.integrations = integrations
            request.emailTemplate = emailTemplate
            request.partnerTemplate = partnerTemplate
            request.event = event
            request.variables = parseVariables(variables)
            let prepared = try await responder.prepare(request)
            if dryRun {
                if json { return try Console.json(Plan(title: title, resumes: prepared.existing?.id, plan: prepared.plan)) }
                return printPlan(prepared)
            }
            let run = try await responder.run(prepared, observer: ConsoleIncidentObserver(progress: delivery.progress))
            if json { try Console.json(run) } else { printIncidentStatus(run.status) }
            if run.status.undelivered > 0 { throw ExitCode(1) }
        }

        private func printPlan(_ prepared: IncidentResponder.Prepared) {
            let plan = prepared.plan
            if let existing = prepared.existing {
                Console.out("dry run: would resume incident \(existing.id) \"\(existing.title)\", opened \(existing.openedAt); nothing recorded or sent")
            } else {
                Console.out("dry run: would open incident \"\(prepared.title)\"; nothing recorded or sent")
            }
            Console.out("")
            Console.out(Table.render(header: ["INTEGRATION", "PARTNER", "EXPOSED", "CUSTOMERS", "CONTACTS"], rows: plan.integrations.map {
                [$0.id, $0.partner, "\($0.installations)", "\($0.customers)", "\($0.contacts)"]
            }))
            Console.out("")
            Console.out(Table.render(header: ["PARTNER", "ALERT", "INTEGRATIONS", "EXPOSED", "CUSTOMERS"], rows: plan.partners.map {
                [$0.id, $0.channel.rawValue, $0.integrations.joined(separator: ","), "\($0.installations)", "\($0.customers)"]
            }))
            Console.out("")
            Console.out("customers \(plan.customers), contacts \(plan.contacts) (one email each), partners \(plan.partners.count): "
                + "webhooks \(plan.webhooks), emails \(plan.partnerEmails); \(plan.installations) installations exposed")
        }
    }
}
