import Foundation
import Logging

/// Runs the response to an incident: `incident open` (audit, one email per contact, an alert per partner, then
/// sending it all) and `incident resolve`. Every stage is recorded as it finishes and what it makes is keyed by
/// the incident, so a run that is killed at any point is resumed by the next one and nothing is made twice.
/// It sends through the campaign sender and the webhook dispatcher, as `campaign send` and `webhooks send` do.
public struct IncidentResponder: Sendable {
    let store: AppDatabase
    let registry: Registry
    let keyRing: KeyRing
    let templates: String
    let webhooks: WebhookDispatcher
    let mail: @Sendable () throws -> any MailTransport
    let sendOptions: SendOptions
    let webhookWait: Double
    let resolveSecret: @Sendable (SecretReference) -> String?
    let registryFile: String
    let logger: Logger

    /// - Parameters:
    ///   - templates: the templates folder (`email/`, `webhooks/`).
    ///   - webhooks: delivers the partners' webhooks (its policy also checks their endpoints before anything starts).
    ///   - mail: makes the mail transport, when the first email is sent (a dry run or a resolve makes none).
    ///   - sendOptions: how campaigns are sent.
    ///   - webhookWait: webhook retries due within this many seconds are waited for; later ones are left to the worker.
    ///   - resolveSecret: reads the `env:`/`file:` references of webhook signing secrets.
    ///   - registryFile: the registry's path, for diagnostics.
    public init(store: AppDatabase, registry: Registry, keyRing: KeyRing, templates: String, webhooks: WebhookDispatcher,
                mail: @escaping @Sendable () throws -> any MailTransport, sendOptions: SendOptions, webhookWait: Double = 0,
                resolveSecret: @escaping @Sendable (SecretReference) -> String?, registryFile: String, logger: Logger) {
        self.store = store
        self.registry = registry
        self.keyRing = keyRing
        self.templates = templates
        self.webhooks = webhooks
        self.mail = mail
        self.sendOptions = sendOptions
        self.webhookWait = webhookWait
        self.resolveSecret = resolveSecret
        self.registryFile = registryFile
        self.logger = logger
    }

    /// An `incident open` checked and planned, before anything is recorded or sent.
    public struct Prepared: Sendable {
        /// The title.
        public var title: String
        /// The open incident of that title that this run resumes, if there is one.
        public var existing: Incident?
        /// The integrations it covers.
        public var integrations: [Integration]
        /// The customers' template.
        public var emailTemplate: EmailTemplate
        /// The partners' email template.
        public var partnerTemplate: EmailTemplate
        /// The partners' webhook payload.
        public var webhookTemplate: WebhookTemplate
        /// The `--var` values.
        public var variables: [String: String]
        /// Who is told what, in counts.
        public var plan: IncidentPlan
    }

    /// The variables an incident gives every customer email, besides `--var` ones.
    static let customerVariables: Set<String> = ["customer", "installations", "incident_id", "incident_date"]
    /// The variables an incident gives every partner email, besides `--var` ones.
    static let partnerVariables: Set<String> = ["partner_name", "integrations", "affected_customers", "incident_id", "incident_date"]

    /// Checks a request and plans it, reading only: the integrations, templates, event and the endpoints of the partners
    /// to alert; for an open incident of the same title, that the options given are the ones it was opened with.
    /// - Throws: `InputError` (exit 2) naming every problem; nothing was recorded or sent.
    public func prepare(_ request: IncidentRequest) async throws -> Prepared {
        var problems: [Diagnostic] = []
        let existing = try await store.openIncident(titled: request.title)
        if let existing { problems += differences(request, from: existing) }
        let event = existing?.event ?? request.event ?? IncidentRequest.defaultEvent
        if !WebhookEndpoint.knownEvents.contains(event) || event == Incident.resolvedEvent {
            let allowed = WebhookEndpoint.knownEvents.filter { $0 != Incident.resolvedEvent }
            problems.append(Diagnostic(file: "--event", message: "'\(event)' cannot alert partners; expected one of: \(allowed.joined(separator: ", "))"
                                       + (event == Incident.resolvedEvent ? " (`rekey incident resolve` sends \(event))" : "")))
        }
        let variables = existing?.variables ?? request.variables
        func load<T>(_ body: () throws(InputError) -> T) -> T? {
            do { return try body() } catch { problems += error.diagnostics; return nil }
        }
        let emailTemplate = load { () throws(InputError) in
            try EmailTemplate.load(named: existing?.emailTemplate ?? request.emailTemplate ?? IncidentRequest.defaultEmailTemplate, from: templates)
        }
        let partnerTemplate = load { () throws(InputError) in
            try EmailTemplate.load(named: existing?.partnerTemplate ?? request.partnerTemplate ?? IncidentRequest.defaultPartnerTemplate, from: templates)
        }
        let webhookTemplate = problems.isEmpty ? load { () throws(InputError) in try WebhookTemplate.load(event: event, from: templates) } : nil
        for (option, template, given) in [("--email-template", emailTemplate, Self.customerVariables), ("--partner-template", partnerTemplate, Self.partnerVariables)] {
            guard let template else { continue }
            let lacking = template.variables.filter { !given.contains($0) && variables[$0] == nil }
            if !lacking.isEmpty {
                problems.append(Diagnostic(file: option, message: "template '\(template.name)' needs \(lacking.map { "{{\($0)}}" }.joined(separator: ", ")), "
                    + "which an incident does not give: it gives \(given.sorted().joined(separator: ", ")) and the --var values"))
            }
        }

        let candidates: [Integration]
        if let existing {
            candidates = existing.integrations.compactMap(registry.integration)
            for id in existing.integrations where registry.integration(id) == nil {
                problems.append(Diagnostic(file: registryFile, message: "incident \(existing.id) covers integration '\(id)', which the registry no longer has"))
            }
        } else if request.integrations.isEmpty {
            candidates = registry.integrations.filter { $0.storage == .plaintext }
        } else {
            candidates = request.integrations.compactMap(registry.integration)
            for id in request.integrations where registry.integration(id) == nil {
                problems.append(Diagnostic(file: "--integration", message: "unknown integration '\(id)'; the registry has: "
                    + registry.integrations.map(\.id).joined(separator: ", ")))
            }
        }
        var plan = try await store.incidentPlan(registry: registry, integrations: candidates, event: event)
        var integrations = candidates
        if existing == nil {
            if request.integrations.isEmpty {
                integrations = candidates.filter { id in plan.integrations.contains { $0.id == id.id && $0.installations > 0 } }
                plan.integrations.removeAll { $0.installations == 0 }
            } else {
                for integration in candidates where integration.storage != .plaintext {
                    problems.append(Diagnostic(file: "--integration", message: "integration '\(integration.id)' stores credentials "
                        + (integration.storage == .none ? "nowhere" : integration.storage.rawValue) + ", not in plaintext: none of its installations is exposed"))
                }
                for line in plan.integrations where line.installations == 0 && registry.integration(line.id)?.storage == .plaintext {
                    problems.append(Diagnostic(file: "--integration", message: "integration '\(line.id)' has no exposed installations "
                        + "(each is migrated or holds no secret)"))
                }
            }
            if integrations.isEmpty && problems.isEmpty {
                problems.append(Diagnostic(file: request.integrations.isEmpty ? registryFile : "--integration",
                    message: "nothing is exposed: no installation of an integration that stores credentials in plaintext still holds one; no incident opened"))
            }
        }
        problems += partnerProblems(plan, event: event, webhookTemplate: webhookTemplate)
        guard problems.isEmpty, let emailTemplate, let partnerTemplate, let webhookTemplate else { throw InputError(problems) }
        return Prepared(title: request.title, existing: existing, integrations: integrations, emailTemplate: emailTemplate,
                        partnerTemplate: partnerTemplate, webhookTemplate: webhookTemplate, variables: variables, plan: plan)
    }

    /// The options given that differ from those the open incident was opened with.
    private func differences(_ request: IncidentRequest, from incident: Incident) -> [Diagnostic] {
        var given: [(String, String, String)] = []
        if !request.integrations.isEmpty, Set(request.integrations) != Set(incident.integrations) {
            given.append(("--integration", request.integrations.joined(separator: ","), incident.integrations.joined(separator: ",")))
        }
        for (option, value, recorded) in [("--email-template", request.emailTemplate, incident.emailTemplate),
                                          ("--partner-template", request.partnerTemplate, incident.partnerTemplate),
                                          ("--event", request.event, incident.event)] {
            if let value, value != recorded { given.append((option, value, recorded)) }
        }
        if !request.variables.isEmpty, request.variables != incident.variables {
            func text(_ variables: [String: String]) -> String { variables.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ") }
            given.append(("--var", text(request.variables), text(incident.variables)))
        }
        return given.map { option, value, recorded in
            Diagnostic(file: option, message: "incident \(incident.id) \"\(incident.title)\" is open with \(option) \(recorded), not \(value); "
                + "run `rekey incident open` with the options it was opened with to resume it, or resolve it first")
        }
    }

    /// Partners that cannot be alerted as planned: an endpoint the policy refuses, a payload that does not render,
    /// two partners emailed at one address.
    private func partnerProblems(_ plan: IncidentPlan, event: String, webhookTemplate: WebhookTemplate?) -> [Diagnostic] {
        var problems: [Diagnostic] = []
        var addresses: [String: String] = [:]
        for line in plan.partners {
            guard let partner = registry.partner(line.id) else { continue }
            switch line.channel {
            case .webhook:
                guard let webhook = partner.webhook else { continue }
                do throws(WebhookTargetError) { _ = try webhooks.options.policy.check(webhook.url) } catch {
                    problems.append(Diagnostic(file: registryFile, line: webhook.urlLine, column: webhook.urlColumn, message: "partner '\(partner.id)': \(error)"))
                }
                do throws(InputError) {
                    _ = try webhookTemplate?.render(for: partner, common: alertValues(line, reference: "INC-0", timestamp: "1970-01-01T00:00:00.000Z"),
                                                    integrations: line.integrations)
                } catch { problems += error.diagnostics }
            case .email:
                guard let contact = partner.securityContact else { continue }
                if let other = addresses.updateValue(partner.id, forKey: contact.email.lowercased()) {
                    problems.append(Diagnostic(file: registryFile, message: "partners '\(other)' and '\(partner.id)' have one security contact, "
                        + "\(contact.email): an incident emails each partner on its own"))
                }
            }
        }
        return problems
    }

    /// A partner's alert payload variables: the incident's reference and the partner's counts, nothing about a customer.
    func alertValues(_ line: IncidentPlan.PartnerLine, reference: String, timestamp: String) -> [String: Any] {
        WebhookTemplate.commonValues(data: [
            "incident_id": reference, "integrations_exposed": line.integrations,
            "installations_exposed": line.installations, "customers_affected": line.customers,
        ], timestamp: timestamp)
    }

    private func note(_ observer: some IncidentObserver, _ stage: IncidentStage, _ message: String) {
        logger.info("\(stage.rawValue): \(message)")
        observer.stage(stage, message)
    }

    /// Opens the incident (or resumes the open one of the same title) and runs each stage not yet done: audit,
    /// customers, partners, send. Webhook signing secrets are synced first: a partner without one stops the run
    /// before anything is recorded.
    public func run(_ prepared: Prepared, observer: some IncidentObserver) async throws -> IncidentRun {
        let plan = prepared.plan
        let webhookPartners = plan.partners.filter { $0.channel == .webhook }
        if !webhookPartners.isEmpty {
            let problems = try await store.syncWebhookEndpoints(registry: registry, keyRing: keyRing, resolve: resolveSecret, registryFile: registryFile)
            let missing = webhookPartners.compactMap { problems[$0.id] }
            guard missing.isEmpty else { throw InputError(missing) }
        }
        let incident: Incident
        if let existing = prepared.existing {
            incident = existing
            note(observer, .audit, "resuming incident \(incident.id) \"\(incident.title)\", opened \(incident.openedAt)")
        } else {
            incident = try await store.recordIncident(
                title: prepared.title, integrations: prepared.integrations.map(\.id), emailTemplate: prepared.emailTemplate.name,
                partnerTemplate: prepared.partnerTemplate.name, event: prepared.webhookTemplate.event, variables: prepared.variables)
            note(observer, .audit, "opened incident \(incident.id) \"\(incident.title)\" (\(incident.reference))")
        }
        let id = incident.id
        let stages = try await store.incidentStages(id)

        if stages[.audit] != .done {
            try await store.finishIncidentStage(id, .audit, counts: plan.counts)
            note(observer, .audit, "\(plan.integrations.count) integrations: \(plan.installations) installations exposed, \(plan.customers) customers, "
                + "\(plan.contacts) contacts; \(plan.partners.count) partners to alert: \(plan.webhooks) by webhook, \(plan.partnerEmails) by email")
        }

        if stages[.customers] != .done {
            try await store.startIncidentStage(id, .customers)
            var counts = ["recipients": 0]
            if plan.contacts > 0 {
                let draft = try await store.draftIncidentCampaign(incident, stage: .customers, template: prepared.emailTemplate,
                                                                  audience: .incident(integrations: incident.integrations), registry: registry)
                counts = ["campaign": Int(draft.campaign), "recipients": draft.recipients]
                note(observer, .customers, "drafted campaign \(draft.campaign): one email to each of \(draft.recipients) contacts")
            }
            try await store.finishIncidentStage(id, .customers, counts: counts)
        }

        if stages[.partners] != .done {
            try await store.startIncidentStage(id, .partners)
            let timestamp = AppDatabase.timestamp(Date())
            var bodies: [(partner: String, body: [UInt8])] = []
            for line in webhookPartners {
                guard let partner = registry.partner(line.id) else { continue }
                let values = alertValues(line, reference: incident.reference, timestamp: timestamp)
                bodies.append((line.id, try prepared.webhookTemplate.render(for: partner, common: values, integrations: line.integrations)))
            }
            var queued: [QueuedWebhook] = []
            if !bodies.isEmpty {
                queued = try await store.enqueueWebhooks(event: incident.event, bodies: bodies, idempotencyKey: "incident-\(id)-\(incident.event)",
                                                         incident: id)
            }
            var counts = ["webhooks": queued.count, "emails": 0]
            let recipients = plan.partners.filter { $0.channel == .email }.compactMap { line -> AudienceRecipient? in
                guard let partner = registry.partner(line.id), let contact = partner.securityContact else { return nil }
                let names = line.integrations.map { registry.integration($0)?.name ?? $0 }
                return AudienceRecipient(email: contact.email, name: contact.name, variables: [
                    "partner_id": partner.id, "partner_name": partner.name, "integrations": names.joined(separator: ", "),
                    "affected_customers": "\(line.customers)",
                ])
            }
            if !recipients.isEmpty {
                let draft = try await store.draftIncidentCampaign(incident, stage: .partners, template: prepared.partnerTemplate,
                                                                  audience: .recipients(recipients), registry: registry)
                counts["campaign"] = Int(draft.campaign)
                counts["emails"] = draft.recipients
            }
            try await store.finishIncidentStage(id, .partners, counts: counts)
            note(observer, .partners, "queued \(queued.count) \(incident.event) webhooks; "
                + (recipients.isEmpty ? "no partner to email" : "drafted campaign \(counts["campaign"] ?? 0) to \(counts["emails"] ?? 0) partner security contacts"))
        }

        try await store.startIncidentStage(id, .send)
        // Partners first (a few messages), then the customers (many).
        var webhookSummary: WebhookRunSummary?
        let open = try await store.incidentStatus(id).stage(.partners)?.webhooks ?? [:]
        let waiting = (open["pending"] ?? 0) + (open["delivering"] ?? 0)
        if waiting > 0 {
            note(observer, .send, "delivering \(waiting) partner webhooks")
            defer { observer.deliveryFinished() }
            webhookSummary = try await webhooks.run(waitUpTo: webhookWait) { observer.webhooks($0, total: waiting) }
        }
        let transport = TransportOnce(mail)
        let partnerEmails = try await send(incident, .partners, template: prepared.partnerTemplate, transport: transport, observer: observer)
        let customerEmails = try await send(incident, .customers, template: prepared.emailTemplate, transport: transport, observer: observer)

        var status = try await store.incidentStatus(id)
        let outstanding = [IncidentStage.customers, .partners].reduce(0) { total, name in
            let stage = status.stage(name)
            return total + ["queued", "sending", "deferred"].reduce(0) { $0 + (stage?.emails?[$1] ?? 0) }
                + ["pending", "delivering"].reduce(0) { $0 + (stage?.webhooks?[$1] ?? 0) }
        }
        if outstanding == 0 {
            var counts: [String: Int] = [:]
            for name in [IncidentStage.customers, .partners] {
                for (state, n) in status.stage(name)?.emails ?? [:] where n > 0 { counts["emails_\(state)", default: 0] += n }
                for (state, n) in status.stage(name)?.webhooks ?? [:] where n > 0 { counts["webhooks_\(state)", default: 0] += n }
            }
            try await store.finishIncidentStage(id, .send, counts: counts)
            status = try await store.incidentStatus(id)
            note(observer, .send, "done: " + counts.sorted { $0.key < $1.key }.map { "\($0.key.replacingOccurrences(of: "_", with: " ")) \($0.value)" }
                .joined(separator: ", "))
        } else {
            note(observer, .send, "still to deliver (retries): \(outstanding) messages; run `rekey incident open` again, or `rekey worker`")
        }
        return IncidentRun(incident: incident, resumed: prepared.existing != nil, plan: plan, webhooks: webhookSummary,
                           partnerEmails: partnerEmails, customerEmails: customerEmails, status: status)
    }

    /// Sends the stage's campaign, if it has one still to send.
    private func send(_ incident: Incident, _ stage: IncidentStage, template: EmailTemplate, transport: TransportOnce,
                      observer: some IncidentObserver) async throws -> SendSummary? {
        guard let id = try await store.incidentCampaign(incident.id, stage) else { return nil }
        let campaign = try await store.campaign(id)
        let who = stage == .customers ? "customer" : "partner"
        switch campaign.state {
        case .draft, .sending:
            note(observer, .send, "sending campaign \(id): \(campaign.recipients) \(who) emails")
            defer { observer.deliveryFinished() }
            let sender = CampaignSender(store: store, template: template, transport: try transport.get(), options: sendOptions, logger: logger,
                                         keyRing: keyRing)
            return try await sender.send(campaign: id) { observer.emails($0) }
        case .finished:
            return nil
        case .paused, .cancelled:
            note(observer, .send, "campaign \(id) (\(who) emails) is \(campaign.state.rawValue): not sent (`rekey campaign resume \(id)` sends it)")
            return nil
        }
    }

    /// `incident resolve`: queues `incident.resolved` for every partner of the incident whose endpoint subscribes to it
    /// (with the installations of its integrations still exposed, a count), records the incident resolved, and
    /// delivers. Running it again records nothing new and delivers what is still due.
    public func resolve(_ id: Int64, observer: some IncidentObserver) async throws -> IncidentResolution {
        let incident = try await store.incident(id)
        let event = Incident.resolvedEvent
        let integrations = incident.integrations.compactMap(registry.integration)
        let partners = registry.partners.filter { partner in integrations.contains { $0.partner == partner.id } }
        let subscribed = partners.filter { $0.webhook?.events.contains(event) == true }
        var problems: [Diagnostic] = []
        let template: WebhookTemplate?
        do throws(InputError) { template = try WebhookTemplate.load(event: event, from: templates) } catch {
            template = nil
            problems += error.diagnostics
        }
        for partner in subscribed {
            guard let webhook = partner.webhook else { continue }
            do throws(WebhookTargetError) { _ = try webhooks.options.policy.check(webhook.url) } catch {
                problems.append(Diagnostic(file: registryFile, line: webhook.urlLine, column: webhook.urlColumn, message: "partner '\(partner.id)': \(error)"))
            }
        }
        guard problems.isEmpty, let template else { throw InputError(problems) }
        let plan = try await store.incidentPlan(registry: registry, integrations: integrations, event: event)
        let timestamp = AppDatabase.timestamp(Date())
        var bodies: [(partner: String, body: [UInt8])] = []
        for partner in subscribed {
            let mine = plan.integrations.filter { $0.partner == partner.id }
            let values = WebhookTemplate.commonValues(data: [
                "incident_id": incident.reference, "installations_still_exposed": mine.reduce(0) { $0 + $1.installations },
            ], timestamp: timestamp)
            bodies.append((partner.id, try template.render(for: partner, common: values, integrations: mine.map(\.id))))
        }
        var queued: [QueuedWebhook] = []
        if !bodies.isEmpty {
            let secrets = try await store.syncWebhookEndpoints(registry: registry, keyRing: keyRing, resolve: resolveSecret, registryFile: registryFile)
            let missing = subscribed.compactMap { secrets[$0.id] }
            guard missing.isEmpty else { throw InputError(missing) }
            queued = try await store.enqueueWebhooks(event: event, bodies: bodies, idempotencyKey: "incident-\(id)-\(event)", incident: id)
        }
        let (resolved, already) = try await store.resolveIncident(id, counts: ["webhooks": queued.count, "partners_not_told": partners.count - subscribed.count])
        note(observer, .resolve, already ? "incident \(id) was resolved at \(resolved.resolvedAt ?? "?")"
            : "resolved incident \(id) at \(resolved.resolvedAt ?? "?"); \(queued.count) partners to tell by webhook")
        var summary = WebhookRunSummary()
        let states = try await store.webhookMessageStates(Set(queued.map(\.id)))
        let waiting = states.values.filter { $0 == .pending || $0 == .delivering }.count
        if waiting > 0 {
            defer { observer.deliveryFinished() }
            summary = try await webhooks.run(waitUpTo: webhookWait) { observer.webhooks($0, total: waiting) }
        }
        return IncidentResolution(incident: resolved, alreadyResolved: already, messages: queued,
                                  states: try await store.webhookMessageStates(Set(queued.map(\.id))),
                                  notTold: partners.filter { p in !subscribed.contains { $0.id == p.id } }.map(\.id), delivery: summary)
    }
}
