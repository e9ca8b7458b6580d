import Foundation

/// An email with a plain-text part and an optional HTML part, composed as RFC 5322 / MIME bytes by hand:
/// `multipart/alternative` (text first), UTF-8 bodies in quoted-printable or base64, RFC 2047 encoded-words
/// for non-ASCII names and subjects, CRLF line endings and no line over 998 octets.
public struct MailMessage: Sendable {
    public var from: MailAddress
    public var to: [MailAddress]
    public var replyTo: MailAddress?
    public var subject: String
    public var text: String
    public var html: String?
    /// Without angle brackets, e.g. `abc123@example.com`.
    public var messageID: String
    public var date: Date
    /// `List-Unsubscribe` targets (`mailto:` or `https:` URIs); with `oneClickUnsubscribe`, also `List-Unsubscribe-Post`.
    public var listUnsubscribe: [String]
    public var oneClickUnsubscribe: Bool
    /// Further headers, e.g. `X-Rekey-Campaign`.
    public var headers: [(name: String, value: String)]

    public init(from: MailAddress, to: [MailAddress], replyTo: MailAddress? = nil, subject: String, text: String,
                html: String? = nil, messageID: String, date: Date = Date(), listUnsubscribe: [String] = [],
                oneClickUnsubscribe: Bool = false, headers: [(name: String, value: String)] = []) {
        self.from = from
        self.to = to
        self.replyTo = replyTo
        self.subject = subject
        self.text = text
        self.html = html
        self.messageID = messageID
        self.date = date
        self.listUnsubscribe = listUnsubscribe
        self.oneClickUnsubscribe = oneClickUnsubscribe
        self.headers = headers
    }

    /// A fresh globally unique Message-ID (without brackets) at `domain`.
    public static func newMessageID(domain: String) -> String {
        // Two 64-bit draws (two getrandom calls, not one per character) give 124 bits over 24 characters.
        var generator = SystemRandomNumberGenerator()
        var bits = (generator.next() as UInt64, generator.next() as UInt64)
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789".utf8)
        var unique: [UInt8] = []
        unique.reserveCapacity(24)
        for index in 0..<24 {
            if index < 12 {
                unique.append(alphabet[Int(bits.0 % 36)]); bits.0 /= 36
            } else {
                unique.append(alphabet[Int(bits.1 % 36)]); bits.1 /= 36
            }
        }
        return "\(String(decoding: unique, as: UTF8.self))@\(domain)"
    }

    /// Checks every header value for line breaks and every address for shape, and that every header folds
    /// into lines within 998 octets (composing the header, not the body).
    public func validate() throws(MIMEError) {
        _ = try header()
    }

    private func checkFields() throws(MIMEError) {
        try Self.checkHeader("Subject", subject)
        try Self.checkAddress("From", from)
        guard !to.isEmpty else { throw MIMEError(field: "To", problem: .invalidAddress("")) }
        for address in to { try Self.checkAddress("To", address) }
        if let replyTo { try Self.checkAddress("Reply-To", replyTo) }
        try Self.checkHeader("Message-ID", messageID)
        for uri in listUnsubscribe { try Self.checkHeader("List-Unsubscribe", uri) }
        for header in headers {
            try Self.checkHeader("header name", header.name)
            try Self.checkHeader(header.name, header.value)
        }
    }

    /// The message as it goes on the wire (before SMTP dot-stuffing, which the transport does).
    public func encoded(boundary: String? = nil) throws(MIMEError) -> [UInt8] {
        var out = Array(try header().utf8)
        guard let html else {
            out += Self.part(contentType: "text/plain; charset=utf-8", body: text)
            return out
        }
        // "=_" never occurs in quoted-printable or base64 output, so the boundary needs no randomness of its own.
        let boundary = boundary ?? "=_rekey_" + messageID.prefix { $0.isLetter || $0.isNumber }.prefix(40)
        out += Array("Content-Type: multipart/alternative;\r\n boundary=\"\(boundary)\"\r\n\r\n".utf8)
        out += Array("This is a multi-part message in MIME format.\r\n".utf8)
        out += Array("--\(boundary)\r\n".utf8)
        // The CRLF before each delimiter belongs to the delimiter (RFC 2046 §5.1.1), hence one more after each body.
        out += Self.part(contentType: "text/plain; charset=utf-8", body: text) + [13, 10]
        out += Array("--\(boundary)\r\n".utf8)
        out += Self.part(contentType: "text/html; charset=utf-8", body: html) + [13, 10]
        out += Array("--\(boundary)--\r\n".utf8)
        return out
    }

    /// The header fields, checked, encoded and folded, through `MIME-Version`.
    private func header() throws(MIMEError) -> String {
        try checkFields()
        var head = ""
        head.reserveCapacity(1024)
        head += "Date: \(Self.rfc5322Date(date))\r\n"
        head += try HeaderEncoding.fold(name: "From", words: Self.mailbox(from))
        head += try HeaderEncoding.fold(name: "To", words: Self.mailboxList(to))
        if let replyTo { head += try HeaderEncoding.fold(name: "Reply-To", words: Self.mailbox(replyTo)) }
        head += try HeaderEncoding.fold(name: "Subject", words: HeaderEncoding.unstructured(subject))
        head += try HeaderEncoding.fold(name: "Message-ID", words: ["<\(messageID)>"])
        if !listUnsubscribe.isEmpty {
            head += try HeaderEncoding.fold(name: "List-Unsubscribe", words: Self.commaList(listUnsubscribe.map { "<\($0)>" }))
            if oneClickUnsubscribe { head += "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" }
        }
        for header in headers {
            head += try HeaderEncoding.fold(name: header.name, words: HeaderEncoding.unstructured(header.value))
        }
        head += "MIME-Version: 1.0\r\n"
        return head
    }

    /// Headers and body of one part; the body is quoted-printable unless mostly non-ASCII, then base64.
    static func part(contentType: String, body: String) -> [UInt8] {
        let utf8 = body.utf8
        let nonASCII = utf8.reduce(0) { $0 + ($1 >= 128 ? 1 : 0) }
        let useBase64 = nonASCII * 3 > utf8.count
        var out = Array("Content-Type: \(contentType)\r\nContent-Transfer-Encoding: \(useBase64 ? "base64" : "quoted-printable")\r\n\r\n".utf8)
        if useBase64 {
            out += Base64Lines.encode(Array(utf8))
        } else {
            out += QuotedPrintable.encode(body)
            if out.last != 10 { out += [13, 10] }
        }
        return out
    }

    static func mailbox(_ address: MailAddress) -> [String] {
        guard let name = address.name, !name.isEmpty else { return [address.address] }
        return HeaderEncoding.displayName(name) + ["<\(address.address)>"]
    }

    static func mailboxList(_ addresses: [MailAddress]) -> [String] {
        var words: [String] = []
        for (index, address) in addresses.enumerated() {
            var mailbox = mailbox(address)
            if index < addresses.count - 1 { mailbox[mailbox.count - 1] += "," }
            words += mailbox
        }
        return words
    }

    static func commaList(_ items: [String]) -> [String] {
        items.enumerated().map { $0.offset < items.count - 1 ? $0.element + "," : $0.element }
    }

    static func checkHeader(_ field: String, _ value: String) throws(MIMEError) {
        if value.utf8.contains(where: { $0 == 13 || $0 == 10 || $0 == 0 }) {
            throw MIMEError(field: field, problem: .lineBreakInHeader)
        }
    }

    static func checkAddress(_ field: String, _ address: MailAddress) throws(MIMEError) {
        if let name = address.name { try checkHeader(field, name) }
        try checkHeader(field, address.address)
        let bytes = address.address.utf8
        let at = bytes.firstIndex(of: UInt8(ascii: "@"))
        guard let at, at != bytes.startIndex, bytes.index(after: at) != bytes.endIndex,
              bytes.allSatisfy({ $0 > 32 && $0 < 127 && $0 != UInt8(ascii: "<") && $0 != UInt8(ascii: ">") && $0 != UInt8(ascii: ",") })
        else { throw MIMEError(field: field, problem: .invalidAddress(address.address)) }
    }

    private static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// `Sun, 29 Nov 2026 13:31:24 +0000`.
    static func rfc5322Date(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(days[Int(parts.tm_wday)]), \(parts.tm_mday) \(months[Int(parts.tm_mon)]) \(1900 + parts.tm_year) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) +0000"
    }
}
