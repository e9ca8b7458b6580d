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

    /// The reply code, the RFC 3463 enhanced code when the text starts with one (class 2, 4 or 5), and the line
    /// without surrounding white space. Read byte by byte: it runs once per message sent.
    static func parseSMTPReply(_ line: String) -> (Int?, String?, String) {
        func isSpace(_ byte: UInt8) -> Bool { byte == 32 || byte == 9 || byte == 10 || byte == 13 }
        func isDigit(_ byte: UInt8) -> Bool { byte >= 48 && byte <= 57 }
        let all = Array(line.utf8)
        let start = all.firstIndex { !isSpace($0) } ?? all.endIndex
        let end = (all.lastIndex { !isSpace($0) }).map { $0 + 1 } ?? start
        let bytes = all[start..<end]
        let trimmed = String(decoding: bytes, as: UTF8.self)
        guard bytes.count >= 3, bytes.prefix(3).allSatisfy(isDigit) else { return (nil, nil, trimmed) }
        let code = bytes.prefix(3).reduce(0) { $0 * 10 + Int($1 - 48) }
        var rest = bytes.dropFirst(3)
        if let first = rest.first, first == 32 || first == UInt8(ascii: "-") { rest = rest.dropFirst() }
        let word = rest.prefix { $0 != 32 }
        let parts = word.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(isDigit) }),
              parts[0].count == 1, let klass = parts[0].first, klass == 50 || klass == 52 || klass == 53  // "2", "4", "5"
        else { return (code, nil, trimmed) }
        return (code, String(decoding: word, as: UTF8.self), trimmed)
    }
}
