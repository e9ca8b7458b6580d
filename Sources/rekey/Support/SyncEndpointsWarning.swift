import Foundation
import RekeyKit

/// Syncs webhook endpoints, warning (not failing) about partners whose signing secret is missing: their
/// messages wait until it is provided.
func syncEndpointsWarning(store: AppDatabase, registry: Registry, keyRing: KeyRing, options: GlobalOptions) async throws {
    let problems = try await store.syncWebhookEndpoints(registry: registry, keyRing: keyRing, resolve: resolveSecretReference,
                                                        registryFile: options.registry)
    for problem in problems.values.sorted(by: { ($0.line ?? 0) < ($1.line ?? 0) }) {
        Console.error(problem.description.replacingOccurrences(of: ": error: ", with: ": warning: ") + " (its webhooks wait)")
    }
}
