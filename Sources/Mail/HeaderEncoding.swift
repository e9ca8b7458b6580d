/// Header field encoding: RFC 2047 encoded-words for non-ASCII text, RFC 5322 folding under 78 characters.
enum HeaderEncoding {
    /// Printable ASCII with nothing that reads as the start of an encoded-word (`=?`): safe to send as it is.
    static func isPlainText(_ text: String) -> Bool {
        var afterEquals = false
        for byte in text.utf8 {
            guard byte >= 32 && byte < 127, !(afterEquals && byte == UInt8(ascii: "?")) else { return false }
            afterEquals = byte == UInt8(ascii: "=")
        }
        return true
    }

    /// RFC 5322 specials, which a display name may only carry inside a quoted string.
    private static func isSpecial(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "["), UInt8(ascii: "]"),
             UInt8(ascii: ":"), UInt8(ascii: ";"), UInt8(ascii: "@"), UInt8(ascii: "\\"), UInt8(ascii: ","), UInt8(ascii: "."),
             UInt8(ascii: "\""): true
        default: false
        }
    }

    /// The longest word that still fits on a folded line of 78 characters (after the leading space).
    static let foldableWord = 77
    /// RFC 5322 §2.1.1: no line may pass 998 octets, CRLF excluded.
    static let maxLineOctets = 998

    /// Unstructured text (Subject): ASCII as is, split at spaces for folding; otherwise `=?UTF-8?B?…?=` words of
    /// at most 75 characters, each split on a character boundary. ASCII with a word too long to fold onto a
    /// 78-character line, or with something that reads as an encoded-word (`=?`), is encoded as well, so
    /// the value survives folding and decodes to exactly the text given.
    static func unstructured(_ text: String) -> [String] {
        if isPlainText(text) {
            let words = text.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            if words.allSatisfy({ $0.utf8.count <= foldableWord }) { return words }
        }
        return encodedWords(text)
    }

    /// A display name: an atom list as is, specials in a quoted string (which may fold at its spaces), non-ASCII
    /// (or a name with a word too long to fold) as encoded-words.
    static func displayName(_ name: String) -> [String] {
        if isPlainText(name) {
            var words = name.split(separator: " ").map(String.init)
            if name.utf8.contains(where: isSpecial) {
                let escaped = name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                // Quoted-string = DQUOTE *([FWS] qcontent) [FWS] DQUOTE: each space inside may become a fold.
                words = "\"\(escaped)\"".split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            }
            if words.allSatisfy({ $0.utf8.count <= foldableWord }) { return words }
        }
        return encodedWords(name)
    }

    static func encodedWords(_ text: String) -> [String] {
        // 36 bytes of UTF-8 make 48 base64 characters: a 60-character word that fits after any header name.
        var words: [String] = []
        var chunk: [UInt8] = []
        for character in text {
            let bytes = character.utf8
            if chunk.count + bytes.count > 36 {
                words.append(word(chunk))
                chunk = []
            }
            chunk.append(contentsOf: bytes)
        }
        if !chunk.isEmpty || words.isEmpty { words.append(word(chunk)) }
        return words
    }

    private static func word(_ bytes: [UInt8]) -> String {
        var encoded = Base64Lines.encode(bytes)
        encoded.removeLast(2)
        return "=?UTF-8?B?" + String(decoding: encoded, as: UTF8.self) + "?="
    }

    /// `Name: word word …` folded with CRLF SP so no line passes 78 characters when words allow it (RFC 5322
    /// §2.2.3). A word that would make a line longer than 998 octets cannot be folded: that is refused.
    static func fold(name: String, words: [String]) throws(MIMEError) -> String {
        var output = name + ":"
        var lineLength = output.utf8.count
        for word in words {
            let length = word.utf8.count
            if lineLength + 1 + length > 78 && lineLength > name.utf8.count + 1 {
                output += "\r\n "
                lineLength = 1
            } else {
                output += " "
                lineLength += 1
            }
            guard lineLength + length <= maxLineOctets else {
                throw MIMEError(field: name, problem: .unfoldableWord(octets: length))
            }
            output += word
            lineLength += length
        }
        return output + "\r\n"
    }
}
