import Foundation

/// One kind of delivery, as ``DeliveryEngine`` runs it: campaign email (``CampaignSender``) and webhook messages
/// (``WebhookDispatcher``).
protocol DeliveryWork: Sendable {
    associatedtype Item: Sendable
    associatedtype Outcome: Sendable

    /// Claims up to `limit` due items, recording each as under way, so that a crash leaves them to be re-sent.
    func claim(limit: Int) async throws -> [Item]
    /// Starts one attempt, whose outcome goes to `done` exactly once, from any thread; a failure is an outcome.
    /// An attempt that must await returns that work as ``AttemptStart/task(_:)``, and the engine runs it as a child
    /// task of the run; one started by a callback API (libcurl's multi handle) costs no task.
    func start(_ item: Item, done: @escaping @Sendable (Outcome) -> Void) -> AttemptStart
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

/// How an attempt got under way.
enum AttemptStart: Sendable {
    /// It runs; its outcome will come through `done`.
    case started
    /// Run this as a child task of the run; it calls `done`.
    case task(@Sendable () async -> Void)
}
