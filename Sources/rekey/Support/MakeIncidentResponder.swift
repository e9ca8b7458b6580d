import Foundation
import RekeyKit

/// An incident responder for these options: webhooks through the worker's dispatcher, mail where
/// `mail` says (or, without it, `REKEY_SMTP_URL` or the outbox), made when the first email is sent.
func makeIncidentResponder(options: GlobalOptions, webhooks: WebhookDeliveryOptions, webhookWait: Double,
                           mail: MailTransportOptions?, sendOptions: SendOptions = SendOptions()) throws -> IncidentResponder {
    let registry = try options.loadRegistry()
    let ring = try options.loadKeyRing()
    let logger = options.makeLogger()
    let store = try options.openStore(logger: logger, keyRing: ring)
    let worker = try makeWorkerLoop(options: options, delivery: webhooks, store: store, keyRing: ring, registry: registry, logger: logger)
    return IncidentResponder(
        store: store, registry: registry, keyRing: ring, templates: options.templates, webhooks: worker.webhooks,
        mail: { try DeliveryOptions.transport(mail ?? .environment()) }, sendOptions: sendOptions, webhookWait: webhookWait,
        resolveSecret: resolveSecretReference, registryFile: options.registry, logger: logger)
}
