import Foundation
import GRDB
import Logging

extension AppDatabase {
    /// Starts a web authorization for a link's installation: keeps its `state` (by hash), the browser's cookie (by
    /// hash), and `secret` (the PKCE verifier, or the OAuth 1.0a request token's secret) sealed, for `lifetime` seconds.
    func startFlow(_ flow: NewReconnectFlow, keyRing: KeyRing, lifetime: TimeInterval = 600, now: Date = Date()) async throws {
        try await write { db in
            try db.execute(sql: """
                INSERT INTO reconnect_flow (state_hash, installation_id, link_id, browser_hash, protocol, sealed, request_token, created_at, expires_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [LinkToken.hash(flow.state), flow.installation, flow.link, LinkToken.hash(flow.browser), flow.protocolName,
                                 keyRing.seal(flow.secret, for: .reconnectFlow(state: LinkToken.hash(flow.state))), flow.requestToken,
                                 Self.timestamp(now), now.timeIntervalSince1970 + lifetime])
            // Expired flows are of no use to anyone: they go as new ones come.
            try db.execute(sql: "DELETE FROM reconnect_flow WHERE expires_at < ?", arguments: [now.timeIntervalSince1970 - 86_400])
            try Self.recordProgress(db, installation: flow.installation, .started, now: now)
        }
    }

    /// Takes a flow for its callback, once: by `state` (OAuth 2.0) or request token (OAuth 1.0a), only from the
    /// browser that started it, before it expires, and only if its link still works. Returns why not otherwise.
    func takeFlow(state: String? = nil, requestToken: String? = nil, browser: String?, keyRing: KeyRing,
                  now: Date = Date()) async throws -> Result<TakenFlow, FlowRefusal> {
        // An unknown state (a scanner, a forgery) is answered from a read: only a known flow takes the write lock.
        let known = try readHere { db in
            if let state {
                return try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM reconnect_flow WHERE state_hash = ?"), arguments: [LinkToken.hash(state)])
            }
            if let requestToken {
                return try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM reconnect_flow WHERE request_token = ?"), arguments: [requestToken])
            }
            return nil
        }
        guard known == true else { return .failure(.unknown) }
        return try await write { db in
            let row: Row?
            if let state {
                row = try Row.fetchOne(db, sql: "SELECT * FROM reconnect_flow WHERE state_hash = ?", arguments: [LinkToken.hash(state)])
            } else if let requestToken {
                row = try Row.fetchOne(db, sql: "SELECT * FROM reconnect_flow WHERE request_token = ?", arguments: [requestToken])
            } else {
                row = nil
            }
            guard let row else { return .failure(.unknown) }
            guard let browser, LinkToken.hash(browser) == (row["browser_hash"] as String) else { return .failure(.otherBrowser) }
            guard row["used_at"] as String? == nil else { return .failure(.used) }
            guard (row["expires_at"] as Double) > now.timeIntervalSince1970 else { return .failure(.expired) }
            let stateHash: String = row["state_hash"]
            try db.execute(sql: "UPDATE reconnect_flow SET used_at = ? WHERE state_hash = ? AND used_at IS NULL",
                           arguments: [Self.timestamp(now), stateHash])
            guard db.changesCount == 1 else { return .failure(.used) }
            let link = try Row.fetchOne(db, sql: "SELECT revoked_at, expires_at FROM reconnect_link WHERE id = ?", arguments: [row["link_id"] as Int64])
            guard let link, link["revoked_at"] as String? == nil, (link["expires_at"] as Double) > now.timeIntervalSince1970 else {
                return .failure(.linkInvalid)
            }
            let secret = try keyRing.open(row["sealed"], for: .reconnectFlow(state: stateHash))
            return .success(TakenFlow(installation: row["installation_id"], protocolName: row["protocol"], secret: secret,
                                      requestToken: row["request_token"]))
        }
    }

    /// Records that an installation's last reconnect failed at `step` (its password is kept).
    public func recordReconnectFailure(installation id: String, step: ReconnectStep, now: Date = Date()) async throws {
        try await write { db in
            try Self.recordProgress(db, installation: id, .failed, failedStep: step, now: now)
            try Self.appendAudit(db, action: "installation.reconnect.failed", subject: id, detail: ["step": step.rawValue], now: now)
        }
    }

    /// Discards the unverified tokens of attempts whose process is gone (killed during verification): the
    /// installation is left as it was, with its password. Every command that opens the store with its key ring runs
    /// this first. Returns the installations cleaned.
    @discardableResult
    public func discardInterruptedAttempts(logger: Logger, now: Date = Date()) throws -> [String] {
        let candidates = try writer.read { db in
            try Row.fetchAll(db, sql: """
                SELECT g.installation_id, g.attempt_pid FROM oauth_grant g JOIN installation i ON i.id = g.installation_id
                WHERE g.verified = 0 AND i.state != 'migrated'
                """).map { ($0["installation_id"] as String, $0["attempt_pid"] as Int32?) }
        }
        let dead = candidates.filter { $0.1.map { !Self.processIsAlive($0) } ?? true }.map(\.0)
        guard !dead.isEmpty else { return [] }
        try Self.waitingWhenBusy(logger: logger) {
            try writer.write { db in
                for id in dead {
                    try db.execute(sql: "DELETE FROM installation_secret WHERE installation_id = ? AND field LIKE 'oauth.%'", arguments: [id])
                    try db.execute(sql: "DELETE FROM oauth_grant WHERE installation_id = ? AND verified = 0", arguments: [id])
                    try Self.recordProgress(db, installation: id, .failed, failedStep: .verify, now: now)
                    try Self.appendAudit(db, action: "installation.tokens.discarded", subject: id,
                                         detail: ["reason": "an interrupted attempt left them unverified"], now: now)
                }
            }
        }
        for id in dead { logger.notice("discarded the unverified tokens of an interrupted reconnect", metadata: ["installation": "\(id)"]) }
        return dead
    }

    static func processIsAlive(_ pid: Int32) -> Bool {
        pid == ProcessInfo.processInfo.processIdentifier || kill(pid, 0) == 0 || errno == EPERM
    }
}

/// A web authorization about to send the browser to the provider.
struct NewReconnectFlow: Sendable {
    var state: String
    var installation: String
    var link: Int64
    var browser: String
    var protocolName: String
    var secret: Secret
    var requestToken: String?
}

/// A flow taken by its callback.
struct TakenFlow: Sendable, Equatable {
    var installation: String
    var protocolName: String
    var secret: Secret
    var requestToken: String?
}

/// Why a callback's flow was refused.
enum FlowRefusal: Error, Sendable, Equatable {
    case unknown, otherBrowser, used, expired, linkInvalid
}

extension SecretBinding {
    /// A web flow's sealed PKCE verifier or request token secret, bound to the hash of its state.
    static func reconnectFlow(state hash: String) -> SecretBinding {
        SecretBinding(table: "reconnect_flow", column: "sealed", row: hash)
    }
}
