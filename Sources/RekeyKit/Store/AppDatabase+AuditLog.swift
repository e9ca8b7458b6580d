import Foundation
import GRDB
import OpenSSLCrypto

/// The audit log: an append-only, hash-chained record of what rekey did. Entries hold counts and
/// identifiers, never secrets. Each entry's hash covers the previous hash, so an edited, deleted or
/// reordered entry breaks the chain from that point on.
public struct AuditEntry: Sendable, Codable, FetchableRecord {
    /// The position in the log: 1 for the first entry, one more for each after it.
    public var seq: Int64
    /// When it was appended, as `AppDatabase.timestamp` writes it.
    public var at: String
    /// What happened, dotted, e.g. `installation.tokens.refreshed` or `webhook.secrets.sealed`.
    public var action: String
    /// What it happened to, e.g. an installation id, `campaign 3` or `12 installations`.
    public var subject: String
    /// A JSON object with sorted keys: counts and identifiers only.
    public var detail: String
    /// The previous entry's `hash`; 64 zeros for the first entry.
    public var prevHash: String
    /// SHA-256 (lowercase hex) of `prevHash`, `seq`, `at`, `action`, `subject` and `detail`, joined by newlines.
    public var hash: String

    enum CodingKeys: String, CodingKey {
        case seq, at, action, subject, detail
        case prevHash = "prev_hash"
        case hash
    }

    static let genesis = String(repeating: "0", count: 64)

    static func hash(seq: Int64, at: String, action: String, subject: String, detail: String, prevHash: String) -> String {
        let text = [prevHash, String(seq), at, action, subject, detail].joined(separator: "\n")
        return Digest.hex(Digest.sha256(Array(text.utf8)))
    }
}

/// Where the audit log's chain first fails, if it does.
public struct AuditLogVerification: Sendable, Codable {
    /// How many entries were read: all of them when `ok`, else up to and including the first bad one.
    public var entries: Int
    /// Whether the whole chain, and the anchor if one was given, checked out.
    public var ok: Bool
    /// The sequence number of the first entry that fails, or nil when `ok`.
    public var firstBadSeq: Int64?
    /// What is wrong there (deleted, altered, rebuilt), or nil when `ok`.
    public var problem: String?
    /// The newest entry as `SEQ:HASH`, when the chain is intact. Kept where rekey cannot write and passed to a
    /// later verify, it shows what the chain alone cannot: newest entries deleted, or the chain rebuilt.
    public var anchor: String?
}

/// An entry recorded earlier from `log verify`: the log must still hold it, unchanged.
public struct AuditAnchor: Sendable, CustomStringConvertible {
    /// The anchored entry's sequence number (positive).
    public var seq: Int64
    /// The anchored entry's hash: 64 lowercase hex digits.
    public var hash: String

    /// Parses `SEQ:HASH` (a positive sequence number and 64 lowercase hex digits).
    public init?(_ text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let seq = Int64(parts[0]), seq > 0, parts[1].count == 64,
              parts[1].allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else { return nil }
        self.seq = seq
        self.hash = String(parts[1])
    }

    /// `SEQ:HASH`, the form `init?(_:)` parses.
    public var description: String { "\(seq):\(hash)" }
}

extension AppDatabase {
    /// Appends an entry in the caller's transaction. `detail` must hold no secret.
    static func appendAudit(_ db: Database, action: String, subject: String, detail: [String: any Sendable & Encodable] = [:], now: Date = Date()) throws {
        let last = try Row.fetchOne(db, sql: "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
        let seq: Int64 = (last?["seq"] ?? 0) + 1
        let prev: String = last?["hash"] ?? AuditEntry.genesis
        let detailJSON = try canonicalJSON(detail)
        let at = timestamp(now)
        let hash = AuditEntry.hash(seq: seq, at: at, action: action, subject: subject, detail: detailJSON, prevHash: prev)
        try db.execute(
            sql: "INSERT INTO audit_log (seq, at, action, subject, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
            arguments: [seq, at, action, subject, detailJSON, prev, hash])
    }

    private static func canonicalJSON(_ detail: [String: any Sendable & Encodable]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let wrapped = detail.mapValues { AnyEncodable($0) }
        return String(decoding: try encoder.encode(wrapped), as: UTF8.self)
    }

    /// Recomputes the chain from the first entry and reports the first one that does not match; with an
    /// anchor, also that the log still holds that entry unchanged.
    public func verifyAuditLog(anchor: AuditAnchor? = nil) async throws -> AuditLogVerification {
        try await writer.read { db in
            var previous = AuditEntry.genesis
            var expectedSeq: Int64 = 1
            var count = 0
            func broken(_ seq: Int64, _ problem: String) -> AuditLogVerification {
                AuditLogVerification(entries: count, ok: false, firstBadSeq: seq, problem: problem)
            }
            let cursor = try AuditEntry.fetchCursor(db, sql: "SELECT * FROM audit_log ORDER BY seq")
            while let entry = try cursor.next() {
                count += 1
                if entry.seq != expectedSeq || entry.prevHash != previous {
                    return broken(entry.seq, "entry \(entry.seq) does not follow entry \(expectedSeq - 1): an entry was deleted, inserted or reordered")
                }
                let recomputed = AuditEntry.hash(seq: entry.seq, at: entry.at, action: entry.action, subject: entry.subject,
                                                 detail: entry.detail, prevHash: entry.prevHash)
                if recomputed != entry.hash {
                    return broken(entry.seq, "entry \(entry.seq) (\(entry.action)) was altered: its hash does not match its content")
                }
                if let anchor, anchor.seq == entry.seq, anchor.hash != entry.hash {
                    return broken(entry.seq, "entry \(entry.seq) is not the one anchored: the log was rebuilt up to it")
                }
                previous = entry.hash
                expectedSeq += 1
            }
            if let anchor, anchor.seq >= expectedSeq {
                return broken(expectedSeq, "the log ends at entry \(expectedSeq - 1) but the anchor is entry \(anchor.seq): newer entries were deleted")
            }
            return AuditLogVerification(entries: count, ok: true, firstBadSeq: nil, problem: nil,
                                        anchor: count > 0 ? "\(expectedSeq - 1):\(previous)" : nil)
        }
    }

    /// The most recent entries, newest last.
    public func auditEntries(limit: Int = 100) async throws -> [AuditEntry] {
        try await writer.read { db in
            try AuditEntry.fetchAll(db, sql: "SELECT * FROM (SELECT * FROM audit_log ORDER BY seq DESC LIMIT ?) ORDER BY seq", arguments: [limit])
        }
    }
}

private struct AnyEncodable: Encodable {
    let value: any Encodable
    init(_ value: any Encodable) { self.value = value }
    func encode(to encoder: Encoder) throws { try value.encode(to: encoder) }
}
