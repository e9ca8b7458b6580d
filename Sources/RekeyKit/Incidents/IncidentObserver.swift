import Foundation

/// Told what `incident open` and `incident resolve` are doing, stage by stage (the command line shows it on stderr).
public protocol IncidentObserver: Sendable {
    /// A stage began, finished, or was found done by an earlier run.
    func stage(_ stage: IncidentStage, _ message: String)
    /// Webhook deliveries so far, against the messages this run expects to deliver.
    func webhooks(_ summary: WebhookRunSummary, total: Int)
    /// One campaign's sending so far.
    func emails(_ progress: SendProgress)
    /// A delivery (webhooks, or one campaign) ended.
    func deliveryFinished()
}

extension IncidentObserver {
    /// Nothing: an observer shows only what it implements.
    public func webhooks(_ summary: WebhookRunSummary, total: Int) {}
    /// Nothing.
    public func emails(_ progress: SendProgress) {}
    /// Nothing.
    public func deliveryFinished() {}
}

/// Watches nothing: for callers that only want the result.
public struct SilentIncidentObserver: IncidentObserver {
    /// The silent observer.
    public init() {}
    /// Nothing.
    public func stage(_ stage: IncidentStage, _ message: String) {}
}
