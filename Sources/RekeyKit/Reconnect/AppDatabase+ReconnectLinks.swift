import Foundation
import GRDB

extension AppDatabase {
    /// Issues a link for `installation` in the caller's transaction: a random nonce, its token's hash, an expiry.
    /// Returns the link's nonce and key version (the token is rebuilt from them when the message is composed).
    static func issueLink(_ db: Database, installation: String, campaign: Int64?, issue: LinkIssue, now: Date) throws -> (nonce: String, version: Int) {
        let nonce = LinkToken.nonce()
        let version = issue.keyRing.activeVersion
        guard let token = issue.keyRing.linkToken(nonce: nonce, version: version) else { fatalError("the active key is in the ring") }
        try db.execute(sql: """
            INSERT INTO reconnect_link (installation_id, campaign_id, token_hash, key_version, nonce, created_at, expires_at)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """, arguments: [installation, campaign, LinkToken.hash(token), version, nonce, timestamp(now),
                             now.timeIntervalSince1970 + issue.lifetime])
        try recordProgress(db, installation: installation, .linkSent, now: now)
        return (nonce, version)
    }

    /// Moves an installation's reconnect progress forward; `linkSent` and `opened` never move it back from a later state.
    static func recordProgress(_ db: Database, installation: String, _ state: ReconnectProgressState, failedStep: ReconnectStep? = nil,
                               account: String? = nil, now: Date) throws {
        let keep: [ReconnectProgressState] = switch state {
        case .linkSent: [.opened, .started, .migrated]
        case .opened: [.started, .migrated, .failed]
        case .started, .failed: [.migrated]
        case .migrated: []
        }
        try db.execute(sql: """
            INSERT INTO reconnect_progress (installation_id, state, failed_step, account, updated_at) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (installation_id) DO UPDATE SET state = excluded.state, failed_step = excluded.failed_step,
                account = coalesce(excluded.account, reconnect_progress.account), updated_at = excluded.updated_at
            WHERE reconnect_progress.state NOT IN (SELECT value FROM json_each(?))
            """, arguments: [installation, state.rawValue, failedStep?.rawValue, account, timestamp(now),
                             String(decoding: try JSONEncoder().encode(keep.map(\.rawValue)), as: UTF8.self)])
    }

    /// The link a token opens, whatever its state (nil: no such token). Reads only.
    public func link(token: String, now: Date = Date()) async throws -> ReconnectLink? {
        guard LinkToken.isWellFormed(token) else { return nil }
        let hash = LinkToken.hash(token)
        // A short indexed read, done on the calling thread: the async read's two thread hops cost more than the query.
        return try readHere { db in try Self.link(db, where: "l.token_hash = ?", [hash], now: now).first }
    }

    /// Records that a link's landing page was shown (the only change a GET or HEAD makes).
    public func recordLinkOpened(_ link: ReconnectLink, now: Date = Date()) async throws {
        try await recordLinkOpens([LinkOpens(link: link.id, installation: link.installation, count: 1, first: now, last: now)])
    }

    /// Records several views of link landing pages in one transaction (`LinkOpenRecorder` batches them).
    func recordLinkOpens(_ opens: [LinkOpens]) async throws {
        guard !opens.isEmpty else { return }
        try await write { db in
            let update = try db.cachedStatement(sql: """
                UPDATE reconnect_link SET opens = opens + ?, first_opened_at = coalesce(first_opened_at, ?), last_opened_at = ?
                WHERE id = ?
                """)
            for open in opens {
                try update.execute(arguments: [open.count, Self.timestamp(open.first), Self.timestamp(open.last), open.link])
                try Self.recordProgress(db, installation: open.installation, .opened, now: open.last)
            }
        }
    }

    /// Every link, newest first, optionally of one installation or campaign; never a token.
    public func links(installation: String? = nil, campaign: Int64? = nil, now: Date = Date()) async throws -> [ReconnectLink] {
        try await writer.read { db in
            try Self.link(db, where: "(? IS NULL OR l.installation_id = ?) AND (? IS NULL OR l.campaign_id = ?)",
                          [installation, installation, campaign, campaign], now: now)
        }
    }

    /// Revokes the live links of an installation, or of a campaign; returns how many were revoked.
    public func revokeLinks(installation: String? = nil, campaign: Int64? = nil, now: Date = Date()) async throws -> Int {
        precondition((installation == nil) != (campaign == nil), "revoke by installation or by campaign")
        return try await write { db in
            try db.execute(sql: """
                UPDATE reconnect_link SET revoked_at = ?
                WHERE revoked_at IS NULL AND expires_at > ? AND (? IS NULL OR installation_id = ?) AND (? IS NULL OR campaign_id = ?)
                """, arguments: [Self.timestamp(now), now.timeIntervalSince1970, installation, installation, campaign, campaign])
            let count = db.changesCount
            if count > 0 {
                try Self.appendAudit(db, action: "reconnect.links.revoked", subject: installation ?? "campaign \(campaign!)",
                                     detail: ["links": count], now: now)
            }
            return count
        }
    }

    /// A read on the calling thread (for short indexed reads on a request's path).
    func readHere<T>(_ body: (Database) throws -> T) throws -> T { try writer.read(body) }

    private static func link(_ db: Database, where condition: String, _ arguments: StatementArguments, now: Date) throws -> [ReconnectLink] {
        try Row.fetchAll(db.cachedStatement(sql: """
            SELECT l.*, i.customer, i.integration_id, i.state AS installation_state, i.config FROM reconnect_link l
            JOIN installation i ON i.id = l.installation_id WHERE \(condition) ORDER BY l.id DESC
            """), arguments: arguments).map { row in
            let state: ReconnectLink.State
            if (row["installation_state"] as String) == InstallationState.migrated.rawValue {
                state = .migrated
            } else if row["revoked_at"] as String? != nil {
                state = .revoked
            } else if (row["expires_at"] as Double) <= now.timeIntervalSince1970 {
                state = .expired
            } else {
                state = .live
            }
            let config = (try? JSONDecoder().decode([String: String].self, from: Data((row["config"] as String).utf8))) ?? [:]
            return ReconnectLink(id: row["id"], installation: row["installation_id"], customer: row["customer"], integration: row["integration_id"],
                                 campaign: row["campaign_id"], state: state, createdAt: row["created_at"],
                                 expiresAt: timestamp(Date(timeIntervalSince1970: row["expires_at"])), revokedAt: row["revoked_at"],
                                 firstOpenedAt: row["first_opened_at"], opens: row["opens"], site: config["base_url"] ?? config["cloud_id"])
        }
    }
}
