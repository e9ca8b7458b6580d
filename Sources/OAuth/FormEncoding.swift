/// `application/x-www-form-urlencoded` and percent-encoding helpers shared by both protocols.
enum FormEncoding {
    /// Percent-encodes every byte of the UTF-8 form except RFC 3986 unreserved characters
    /// (`ALPHA DIGIT - . _ ~`), with uppercase hex. Valid in queries, form bodies and OAuth 1.0a.
    static func percentEncode(_ value: String) -> String {
        var out = [UInt8]()
        out.reserveCapacity(value.utf8.count)
        for byte in value.utf8 {
            if isUnreserved(byte) {
                out.append(byte)
            } else {
                out.append(UInt8(ascii: "%"))
                out.append(hexDigits[Int(byte >> 4)])
                out.append(hexDigits[Int(byte & 0x0F)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `name=value&...`, each side percent-encoded.
    static func encode(_ pairs: [(name: String, value: String)]) -> String {
        pairs.map { percentEncode($0.name) + "=" + percentEncode($0.value) }.joined(separator: "&")
    }

    /// Parses a query or form body: `+` is a space, `%XX` is decoded, a pair without `=` has an
    /// empty value, empty pieces are skipped. Order and duplicates are kept.
    static func decode(_ text: some StringProtocol) -> [(name: String, value: String)] {
        text.split(separator: "&", omittingEmptySubsequences: true).map { piece in
            if let eq = piece.firstIndex(of: "=") {
                return (percentDecode(piece[..<eq]), percentDecode(piece[piece.index(after: eq)...]))
            }
            return (percentDecode(piece), "")
        }
    }

    /// The first value of each name in a query or form body.
    static func decodeFirstValues(_ text: some StringProtocol) -> [String: String] {
        var result: [String: String] = [:]
        for (name, value) in decode(text) where result[name] == nil { result[name] = value }
        return result
    }

    /// Decodes `%XX` escapes (and `+` as space when `plusAsSpace`); malformed escapes are kept as is.
    static func percentDecode(_ text: some StringProtocol, plusAsSpace: Bool = true) -> String {
        let bytes = Array(text.utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            let byte = bytes[i]
            if byte == UInt8(ascii: "%"), i + 2 < bytes.count,
               let high = hexValue(bytes[i + 1]), let low = hexValue(bytes[i + 2]) {
                out.append(high << 4 | low)
                i += 3
            } else {
                out.append(plusAsSpace && byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Percent-encodes the bytes that may not appear literally in a URI (controls, space,
    /// non-ASCII, `"<>\^`{|}`), leaving existing escapes and reserved characters alone. This is
    /// the form a URL goes on the wire in, so it is also the form to sign.
    static func escapeDisallowedURICharacters(_ url: String) -> String {
        let disallowed: Set<UInt8> = Set("\"<>\\^`{|} ".utf8)
        guard url.utf8.contains(where: { $0 < 0x21 || $0 > 0x7E || disallowed.contains($0) }) else { return url }
        var out = [UInt8]()
        for byte in url.utf8 {
            if byte < 0x21 || byte > 0x7E || disallowed.contains(byte) {
                out += [UInt8(ascii: "%"), hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0x0F)]]
            } else {
                out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends encoded parameters to a URL's query, keeping any query it already has.
    static func appendingQuery(_ pairs: [(name: String, value: String)], to url: String) -> String {
        guard !pairs.isEmpty else { return url }
        var base = url
        var fragment = ""
        if let hash = base.firstIndex(of: "#") {
            fragment = String(base[hash...])
            base = String(base[..<hash])
        }
        let separator = base.contains("?") ? (base.hasSuffix("?") || base.hasSuffix("&") ? "" : "&") : "?"
        return base + separator + encode(pairs) + fragment
    }

    static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."),
             UInt8(ascii: "_"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    private static let hexDigits = Array("0123456789ABCDEF".utf8)

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        default: return nil
        }
    }
}
