import Foundation

/// What one delivery attempt came to, as the transport saw it.
public struct DeliveryResult: Sendable, Equatable {
    /// What the recipient's state becomes: sent, deferred (or failed after the last attempt), failed, or unknown.
    public enum Outcome: Sendable, Equatable {
        /// The server accepted the message.
        case accepted
        /// Worth retrying: a 4xx reply, or the connection failed before the message was complete.
        case transient
        /// Never retry: a 5xx reply.
        case permanent
        /// The server may have the message: the connection failed or timed out after the final dot.
        case unknown
    }

    /// How the attempt ended.
    public var outcome: Outcome
    /// The SMTP (or HTTP) reply code, when there was one.
    public var code: Int?
    /// The RFC 3463 enhanced status code, such as `4.3.0`.
    public var enhanced: String?
    /// The server's reply text or the transport's error, for people to read.
    public var text: String
    /// A server's request to wait at least this long before retrying (HTTP `Retry-After`).
    public var retryAfter: Double?

    /// Creates a result; only the outcome and a text are required.
    public init(outcome: Outcome, code: Int? = nil, enhanced: String? = nil, text: String, retryAfter: Double? = nil) {
        self.outcome = outcome
        self.code = code
        self.enhanced = enhanced
        self.text = text
        self.retryAfter = retryAfter
    }

    /// Classifies an SMTP reply line such as `451 4.3.0 Try again later`: 2xx accepted, 4xx transient, 5xx permanent.
    public static func smtpReply(_ line: String) -> DeliveryResult {
        let (code, enhanced, text) = parseSMTPReply(line)
        let outcome: Outcome = switch code {
        case .some(200..<300): .accepted
        case .some(400..<500): .transient
        case .some(500..<600): .permanent
        default: .transient
        }
        return DeliveryResult(outcome: outcome, code: code, enhanced: enhanced, text: text)
    }

    static func parseSMTPReply(_ line: String) -> (Int?, String?, String) {
        let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
        let utf8 = Array(trimmed.utf8)
        guard utf8.count >= 3, let code = Int(String(decoding: utf8[0..<3], as: UTF8.self)) else { return (nil, nil, trimmed) }
        var rest = String(decoding: utf8[3...], as: UTF8.self)
        if rest.hasPrefix(" ") || rest.hasPrefix("-") { rest.removeFirst() }
        let firstWord = rest.prefix { $0 != " " }
        let parts = firstWord.split(separator: ".")
        if parts.count == 3, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isNumber) }), let klass = parts.first, ["2", "4", "5"].contains(klass) {
            return (code, String(firstWord), trimmed)
        }
        return (code, nil, trimmed)
    }
}
