import Foundation

/// One kind of delivery, as ``DeliveryEngine`` runs it: campaign email (``CampaignSender``) and webhook messages
/// (``WebhookDispatcher``).
protocol DeliveryWork: Sendable {
    associatedtype Item: Sendable
    associatedtype Outcome: Sendable

    /// Claims up to `limit` due items, recording each as under way, so that a crash leaves them to be re-sent.
    func claim(limit: Int) async throws -> [Item]
    /// Makes one attempt. It does not throw: a failure is an outcome.
    func attempt(_ item: Item) async -> Outcome
    /// Writes outcomes, in one transaction.
    func commit(_ outcomes: [Outcome]) async throws
    /// Gives back claimed items that were never attempted.
    func release(_ items: [Item]) async throws
    /// When the next item falls due, in seconds since 1970, or nil when nothing more will for this run.
    func nextDue() async throws -> Double?
    /// Seconds between renewals of the run's claim on its work, or nil when it holds none.
    var renewInterval: Double? { get }
    /// Renews the run's claim; false when another process has taken it.
    func renew() async throws -> Bool
}

extension DeliveryWork {
    var renewInterval: Double? { nil }
    func renew() async throws -> Bool { true }
}
