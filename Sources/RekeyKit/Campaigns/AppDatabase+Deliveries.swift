import Foundation
import GRDB

extension AppDatabase {
    /// The campaign with this id; throws `CampaignNotFound` when there is none.
    public func campaign(_ id: Int64) async throws -> Campaign {
        guard let campaign = try await writer.read({ try Self.fetchCampaign($0, id) }) else { throw CampaignNotFound(id: id) }
        return campaign
    }

    /// Every campaign, oldest first.
    public func campaigns() async throws -> [Campaign] {
        try await writer.read { try Campaign.fetchAll($0, sql: "SELECT * FROM campaign ORDER BY id") }
    }

    static func fetchCampaign(_ db: Database, _ id: Int64) throws -> Campaign? {
        try Campaign.fetchOne(db, sql: "SELECT * FROM campaign WHERE id = ?", arguments: [id])
    }

    /// Moves a campaign along the transition table, or throws `CampaignStateError`.
    @discardableResult
    static func move(_ db: Database, campaign id: Int64, to next: CampaignState, now: Date = Date()) throws -> Campaign {
        guard var campaign = try fetchCampaign(db, id) else { throw CampaignNotFound(id: id) }
        guard campaign.state.canMove(to: next) else { throw CampaignStateError(campaign: id, from: campaign.state, to: next) }
        let at = timestamp(now)
        try db.execute(sql: """
            UPDATE campaign SET state = ?, updated_at = ?,
                started_at = CASE WHEN ? = 'sending' THEN coalesce(started_at, ?) ELSE started_at END,
                finished_at = CASE WHEN ? IN ('finished', 'cancelled') THEN ? ELSE NULL END
            WHERE id = ?
            """, arguments: [next, at, next, at, next, at, id])
        try appendAudit(db, action: "campaign.\(next.rawValue)", subject: "campaign \(id)", detail: ["from": campaign.state.rawValue], now: now)
        campaign.state = next
        return campaign
    }

    /// `campaign pause`, `resume` (back to sending happens in `send`) and `cancel`.
    @discardableResult
    public func moveCampaign(_ id: Int64, to next: CampaignState) async throws -> Campaign {
        try await write { try Self.move($0, campaign: id, to: next) }
    }

    /// Starts (or resumes) sending, taking the campaign's lease for `lease`'s owner: refused while another live run
    /// holds it, and, with `sameDestination` (a worker taking over), when the last run sent elsewhere than
    /// `destination`. Recipients left `sending` by a run that died mid-transfer are re-queued, and their number
    /// returned: at most that many messages may reach their recipient twice.
    func beginSending(_ id: Int64, destination: String, lease: RunLease, sameDestination: Bool = false,
                      now: Date = Date()) async throws -> (Campaign, interrupted: Int) {
        try await write { db in
            guard let current = try Self.fetchCampaign(db, id) else { throw CampaignNotFound(id: id) }
            let held = try Row.fetchOne(db, sql: "SELECT lease_owner, lease_until FROM campaign WHERE id = ?", arguments: [id])
            if let owner: String = held?["lease_owner"], owner != lease.owner, let until: Double = held?["lease_until"],
               until > now.timeIntervalSince1970, !RunLease.isDead(owner) {
                throw CampaignLeased(campaign: id, owner: owner, until: Date(timeIntervalSince1970: until))
            }
            if sameDestination, let recorded = current.destination, recorded != destination {
                throw CampaignDestinationMismatch(campaign: id, recorded: recorded, available: destination)
            }
            try db.execute(sql: "UPDATE campaign SET lease_owner = ?, lease_until = ?, destination = ? WHERE id = ?",
                           arguments: [lease.owner, now.timeIntervalSince1970 + lease.duration, destination, id])
            var campaign = current.state == .sending ? current : try Self.move(db, campaign: id, to: .sending, now: now)
            campaign.destination = destination
            try db.execute(sql: """
                UPDATE recipient SET state = 'queued', last_text = 'interrupted: rekey stopped during this attempt; sending again',
                    updated_at = ? WHERE campaign_id = ? AND state = 'sending'
                """, arguments: [Self.timestamp(now), id])
            let interrupted = db.changesCount
            if interrupted > 0 {
                try Self.appendAudit(db, action: "campaign.resumed", subject: "campaign \(id)", detail: ["interrupted": interrupted], now: now)
            }
            return (campaign, interrupted)
        }
    }

    /// Claims up to `limit` due recipients, recording the attempt as under way before it starts.
    /// Returns nothing when the campaign is no longer `sending` (paused or cancelled meanwhile).
    func claimRecipients(_ id: Int64, limit: Int, now: Date = Date()) async throws -> [ClaimedRecipient] {
        try await write { db in
            guard try String.fetchOne(db, sql: "SELECT state FROM campaign WHERE id = ?", arguments: [id]) == "sending" else { return [] }
            let rows = try Row.fetchAll(db, sql: """
                UPDATE recipient SET state = 'sending', attempts = attempts + 1, updated_at = ?
                WHERE id IN (
                    SELECT id FROM recipient WHERE campaign_id = ? AND state = 'queued'
                    UNION ALL
                    SELECT id FROM recipient WHERE campaign_id = ? AND state = 'deferred' AND next_attempt_at <= ?
                    LIMIT ?)
                RETURNING id, email, name, variables, message_id, attempts
                """, arguments: [Self.timestamp(now), id, id, now.timeIntervalSince1970, limit])
            return rows.map {
                ClaimedRecipient(id: $0["id"], email: $0["email"], name: $0["name"], variablesJSON: $0["variables"],
                                 messageID: $0["message_id"], attempts: $0["attempts"])
            }.sorted { $0.id < $1.id }
        }
    }

    /// Puts claimed-but-unsent recipients back, as if never claimed, while `lease` still holds the campaign. A run
    /// that lost its lease releases nothing: the rows are the new owner's now, perhaps claimed again by it.
    func releaseRecipients(_ ids: [Int64], campaign: Int64, lease: RunLease) async throws {
        guard !ids.isEmpty else { return }
        try await write { db in
            let owner = try String.fetchOne(db, sql: "SELECT lease_owner FROM campaign WHERE id = ?", arguments: [campaign])
            guard owner == lease.owner else { return }
            for id in ids {
                try db.execute(sql: "UPDATE recipient SET state = 'queued', attempts = attempts - 1 WHERE id = ? AND state = 'sending'", arguments: [id])
            }
        }
    }

    /// Records the ends of many attempts in one transaction.
    func recordDeliveries(_ deliveries: [RecordedDelivery], now: Date = Date()) async throws {
        guard !deliveries.isEmpty else { return }
        let at = Self.timestamp(now)
        try await write { db in
            let statement = try db.cachedStatement(sql: """
                UPDATE recipient SET state = ?, last_code = ?, last_enhanced = ?, last_text = ?, next_attempt_at = ?,
                    sent_at = coalesce(?, sent_at), updated_at = ? WHERE id = ?
                """)
            for d in deliveries {
                try statement.execute(arguments: [d.state, d.code, d.enhanced, d.text, d.nextAttemptAt, d.sentAt, at, d.id])
            }
        }
    }

    /// Extends the run's lease (its heartbeat). False when the lease is no longer this run's.
    func renewLease(_ id: Int64, _ lease: RunLease, now: Date = Date()) async throws -> Bool {
        try await write { db in
            try db.execute(sql: "UPDATE campaign SET lease_until = ? WHERE id = ? AND lease_owner = ?",
                           arguments: [now.timeIntervalSince1970 + lease.duration, id, lease.owner])
            return db.changesCount == 1
        }
    }

    /// Gives the campaign up: another process may send it at once.
    func releaseLease(_ id: Int64, _ lease: RunLease) async throws {
        try await write { db in
            try db.execute(sql: "UPDATE campaign SET lease_owner = NULL, lease_until = NULL WHERE id = ? AND lease_owner = ?",
                           arguments: [id, lease.owner])
        }
    }

    /// The earliest next attempt among the campaign's deferred recipients, as seconds since 1970.
    func nextRetry(_ id: Int64) async throws -> Double? {
        try await writer.read { db in
            try Double.fetchOne(db, sql: "SELECT min(next_attempt_at) FROM recipient WHERE campaign_id = ? AND state = 'deferred'", arguments: [id])
        }
    }

    /// Finishes the campaign when no recipient is left to try; otherwise leaves it `sending` (resumable).
    func concludeSending(_ id: Int64, counts: [String: Int], now: Date = Date()) async throws -> Campaign {
        try await write { db in
            guard let campaign = try Self.fetchCampaign(db, id) else { throw CampaignNotFound(id: id) }
            let open = try Int.fetchOne(db, sql: """
                SELECT count(*) FROM recipient WHERE campaign_id = ? AND state IN ('queued', 'sending', 'deferred')
                """, arguments: [id]) ?? 0
            guard campaign.state == .sending else { return campaign }
            try Self.appendAudit(db, action: "campaign.sent", subject: "campaign \(id)", detail: counts, now: now)
            return open == 0 ? try Self.move(db, campaign: id, to: .finished, now: now) : campaign
        }
    }

    /// `campaign retry`: re-queues deferred, failed and unknown recipients; the campaign becomes ready to send.
    /// With nothing to re-queue, the campaign is left as it is (a finished one stays finished).
    public func retryCampaign(_ id: Int64, states: Set<DeliveryState> = [.deferred, .failed, .unknown]) async throws -> Int {
        try await write { db in
            guard let campaign = try Self.fetchCampaign(db, id) else { throw CampaignNotFound(id: id) }
            if campaign.state == .cancelled || campaign.state == .draft {
                throw CampaignStateError(campaign: id, from: campaign.state, to: .paused)
            }
            let list = states.map { "'\($0.rawValue)'" }.sorted().joined(separator: ", ")
            try db.execute(sql: """
                UPDATE recipient SET state = 'queued', next_attempt_at = NULL WHERE campaign_id = ? AND state IN (\(list))
                """, arguments: [id])
            let count = db.changesCount
            guard count > 0 else { return 0 }
            if campaign.state == .finished { try Self.move(db, campaign: id, to: .paused) }
            try Self.appendAudit(db, action: "campaign.retry", subject: "campaign \(id)", detail: ["requeued": count])
            return count
        }
    }

    /// Counts per state, the acceptance rate, and the recipients that did not get their message, with reasons: every
    /// one, or the first `failureLimit`.
    public func campaignStatus(_ id: Int64, failureLimit: Int? = nil) async throws -> CampaignStatus {
        try await writer.read { db in
            guard let campaign = try Self.fetchCampaign(db, id) else { throw CampaignNotFound(id: id) }
            var counts = Dictionary(uniqueKeysWithValues: DeliveryState.allCases.map { ($0.rawValue, 0) })
            for row in try Row.fetchAll(db, sql: "SELECT state, count(*) AS n FROM recipient WHERE campaign_id = ? GROUP BY state", arguments: [id]) {
                counts[row["state"]] = row["n"]
            }
            let window = try Row.fetchOne(db, sql: """
                SELECT min(sent_at) AS first, max(sent_at) AS last FROM recipient WHERE campaign_id = ? AND state = 'sent'
                """, arguments: [id])
            var rate: Double?
            if let first: String = window?["first"], let last: String = window?["last"],
               let a = try? Date(first, strategy: .iso8601), let b = try? Date(last, strategy: .iso8601), b > a {
                rate = Double(counts["sent"] ?? 0) / b.timeIntervalSince(a)
            }
            let next = try Double.fetchOne(db, sql: "SELECT min(next_attempt_at) FROM recipient WHERE campaign_id = ? AND state = 'deferred'", arguments: [id])
            let failures = try Row.fetchAll(db, sql: """
                SELECT email, state, attempts, last_code, last_enhanced, last_text FROM recipient
                WHERE campaign_id = ? AND state IN ('failed', 'unknown', 'deferred') ORDER BY id LIMIT ?
                """, arguments: [id, failureLimit ?? -1]).map {
                CampaignStatus.Failure(email: $0["email"], state: $0["state"], attempts: $0["attempts"], code: $0["last_code"],
                                       enhanced: $0["last_enhanced"], reason: $0["last_text"])
            }
            return CampaignStatus(campaign: campaign, counts: counts, total: campaign.recipients, rate: rate,
                                  nextRetryAt: next.map { Self.timestamp(Date(timeIntervalSince1970: $0)) },
                                  undelivered: ["failed", "unknown", "deferred"].reduce(0) { $0 + (counts[$1] ?? 0) }, failures: failures)
        }
    }
}

extension AppDatabase {
    /// Campaigns still sending with recipients queued, deferred and due, or left `sending` by a dead run (even
    /// when it had claimed every remaining one), and that no live run holds.
    public func campaignsWithDueRetries(now: Date = Date()) async throws -> [Int64] {
        try await writer.read { db in
            try Row.fetchAll(db, sql: """
                SELECT DISTINCT c.id, c.lease_owner, c.lease_until FROM campaign c JOIN recipient r ON r.campaign_id = c.id
                WHERE c.state = 'sending'
                  AND (r.state IN ('queued', 'sending') OR (r.state = 'deferred' AND r.next_attempt_at <= ?))
                ORDER BY c.id
                """, arguments: [now.timeIntervalSince1970]).filter { row in
                guard let owner: String = row["lease_owner"], let until: Double = row["lease_until"] else { return true }
                return until <= now.timeIntervalSince1970 || RunLease.isDead(owner)
            }.map { $0["id"] }
        }
    }

    /// The earliest deferred retry of any campaign still sending, or the end of the lease of a run that left recipients
    /// `sending`, as seconds since 1970 (not before a live run's lease ends: that run sends its own retries).
    public func nextCampaignRetry() async throws -> Double? {
        try await writer.read { db in
            try Double.fetchOne(db, sql: """
                SELECT min(max(coalesce(r.next_attempt_at, 0), coalesce(c.lease_until, 0))) FROM recipient r JOIN campaign c ON c.id = r.campaign_id
                WHERE c.state = 'sending' AND r.state IN ('deferred', 'sending')
                """)
        }
    }
}
