import Foundation
import Logging
import RekeyKit

/// The worker loop for these options: mail goes through `REKEY_SMTP_URL`, or to `./outbox` without it.
func makeWorkerLoop(options: GlobalOptions, delivery: WebhookDeliveryOptions, store: AppDatabase, keyRing: KeyRing,
                    registry: Registry, logger: Logger) throws -> WorkerLoop {
    let keeper = try TokenKeeper(store: store, keyRing: keyRing, registry: registry, connections: 4,
                             logger: logger, resolve: resolveSecretReference)
    return try WorkerLoop(store: store, keyRing: keyRing, registry: registry, templates: options.templates,
                          webhookOptions: delivery.webhookOptions, logger: logger, mailTransport: { try DeliveryOptions.defaultTransport() },
                          refresher: {
                              let outcomes = try await keeper.refreshDue(within: 600)
                              return (outcomes.filter { $0.outcome == .refreshed }.count,
                                      outcomes.filter(\.outcome.isFailure).count)
                          })
}
