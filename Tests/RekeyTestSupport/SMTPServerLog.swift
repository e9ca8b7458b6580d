import Foundation

extension TemporaryDirectory {
    /// Messages the SMTP test server (`smtp_server.py --store DIR`) accepted, per recipient, from its `log.jsonl`.
    public func acceptedMessagesPerRecipient() throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for entry in try serverLog() {
            for to in entry["rcpt_tos"] as? [String] ?? [] { counts[to, default: 0] += 1 }
        }
        return counts
    }

    /// The SMTP test server's `log.jsonl`, one entry per accepted message. Read while the server runs, the file may
    /// end in a line still being written: only lines ended by a newline are entries.
    public func serverLog() throws -> [[String: Any]] {
        let log = (try? String(contentsOfFile: file("log.jsonl"), encoding: .utf8)) ?? ""
        let complete = log.hasSuffix("\n") ? Substring(log) : log[..<(log.lastIndex(of: "\n").map { log.index(after: $0) } ?? log.startIndex)]
        return try complete.split(separator: "\n").compactMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }
}
