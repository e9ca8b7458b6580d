import GRDB

/// A campaign: one template sent to one audience, tracked per recipient.
public struct Campaign: Sendable, Codable, FetchableRecord {
    public var id: Int64
    public var name: String
    public var template: String
    public var audience: String
    public var state: CampaignState
    public var recipients: Int
    public var createdAt: String
    public var updatedAt: String
    public var startedAt: String?
    public var finishedAt: String?
    /// Where the latest run sent (an SMTP URL without credentials, or the outbox); never a secret.
    public var destination: String?

    enum CodingKeys: String, CodingKey {
        case id, name, template, audience, state, recipients, destination
        case createdAt = "created_at", updatedAt = "updated_at", startedAt = "started_at", finishedAt = "finished_at"
    }
}

/// A campaign's life. Every change goes through `canMove(to:)`.
public enum CampaignState: String, Sendable, Codable, CaseIterable, DatabaseValueConvertible {
    case draft, sending, paused, finished, cancelled

    /// The strict transition table.
    public static let transitions: [CampaignState: Set<CampaignState>] = [
        .draft: [.sending, .cancelled],
        .sending: [.paused, .finished, .cancelled],
        .paused: [.sending, .cancelled],
        .finished: [.paused],  // `campaign retry` re-queues recipients and leaves the campaign ready to send
        .cancelled: [],
    ]

    public func canMove(to next: CampaignState) -> Bool { Self.transitions[self]?.contains(next) ?? false }
}

/// Where one recipient's delivery stands.
public enum DeliveryState: String, Sendable, Codable, CaseIterable, DatabaseValueConvertible {
    /// Waiting for its first attempt, or re-queued.
    case queued
    /// An attempt is under way (recorded before it starts).
    case sending
    /// The server accepted it.
    case sent
    /// A transient failure; `next_attempt_at` says when to try again.
    case deferred
    /// A permanent failure, or too many attempts.
    case failed
    /// The server may or may not have it (a timeout after the final dot). Never re-sent without `campaign retry`.
    case unknown
}

/// A refused state change, such as sending a cancelled campaign.
public struct CampaignStateError: RekeyError, Sendable {
    public var exitCode: Int32 { 2 }

    public var campaign: Int64
    public var from: CampaignState
    public var to: CampaignState

    public init(campaign: Int64, from: CampaignState, to: CampaignState) {
        self.campaign = campaign
        self.from = from
        self.to = to
    }

    public var description: String {
        let allowed = CampaignState.transitions[from]?.map(\.rawValue).sorted().joined(separator: ", ") ?? ""
        return "campaign \(campaign) is \(from.rawValue) and cannot become \(to.rawValue)"
            + (allowed.isEmpty ? "" : " (from \(from.rawValue) it can become: \(allowed))")
    }
}

/// No campaign with that id.
public struct CampaignNotFound: RekeyError, Sendable {
    public var exitCode: Int32 { 2 }

    public var id: Int64
    public var description: String { "no campaign \(id); `rekey campaign list` shows them" }
}
