import Foundation

extension TemporaryDirectory {
    /// Messages the SMTP test server (`smtp_server.py --store DIR`) accepted, per recipient, from its `log.jsonl`.
    public func acceptedMessagesPerRecipient() throws -> [String: Int] {
        let log = (try? String(contentsOfFile: file("log.jsonl"), encoding: .utf8)) ?? ""
        var counts: [String: Int] = [:]
        for line in log.split(separator: "\n") {
            let entry = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            for to in entry?["rcpt_tos"] as? [String] ?? [] { counts[to, default: 0] += 1 }
        }
        return counts
    }
}
