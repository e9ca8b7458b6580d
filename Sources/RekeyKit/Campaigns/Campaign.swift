import GRDB

/// A campaign: one template sent to one audience, tracked per recipient.
public struct Campaign: Sendable, Codable, FetchableRecord {
    /// The store's id, from 1.
    public var id: Int64
    /// `--name`, or else the template's name and the draft's time (`NAME YYYY-MM-DDTHH:MM`).
    public var name: String
    /// The email template's name.
    public var template: String
    /// Where the recipients came from: `file:PATH`, `affected:INTEGRATION` or `recipients:EMAIL,…`.
    public var audience: String
    /// Where it is in its life.
    public var state: CampaignState
    /// How many recipients were drafted.
    public var recipients: Int
    /// When it was drafted (`AppDatabase.timestamp`).
    public var createdAt: String
    /// When its state last changed.
    public var updatedAt: String
    /// When it first started sending; nil for a draft.
    public var startedAt: String?
    /// When it finished or was cancelled; nil while it may still send.
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
    /// `draft`: recipients recorded, nothing sent; `sending`: a run sends it, or will resume it; `paused`: on hold;
    /// `finished`: no recipient left to try; `cancelled`: final.
    case draft, sending, paused, finished, cancelled

    /// The strict transition table.
    public static let transitions: [CampaignState: Set<CampaignState>] = [
        .draft: [.sending, .cancelled],
        .sending: [.paused, .finished, .cancelled],
        .paused: [.sending, .cancelled],
        .finished: [.paused],  // `campaign retry` re-queues recipients and leaves the campaign ready to send
        .cancelled: [],
    ]

    /// Whether `transitions` allows the move from this state to `next`.
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
    /// 2: the campaign's state refuses the change; nothing was changed.
    public var exitCode: Int32 { 2 }

    /// The campaign's id.
    public var campaign: Int64
    /// The state it is in.
    public var from: CampaignState
    /// The state it was asked to take.
    public var to: CampaignState

    /// Creates the error for a refused move.
    public init(campaign: Int64, from: CampaignState, to: CampaignState) {
        self.campaign = campaign
        self.from = from
        self.to = to
    }

    /// Names both states and the ones the campaign may move to instead.
    public var description: String {
        let allowed = CampaignState.transitions[from]?.map(\.rawValue).sorted().joined(separator: ", ") ?? ""
        return "campaign \(campaign) is \(from.rawValue) and cannot become \(to.rawValue)"
            + (allowed.isEmpty ? "" : " (from \(from.rawValue) it can become: \(allowed))")
    }
}

/// No campaign with that id.
public struct CampaignNotFound: RekeyError, Sendable {
    /// 2: bad input (an unknown id).
    public var exitCode: Int32 { 2 }

    /// The id asked for.
    public var id: Int64
    /// Names the id and points to `rekey campaign list`.
    public var description: String { "no campaign \(id); `rekey campaign list` shows them" }
}
