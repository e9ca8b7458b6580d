/// Header field encoding: RFC 2047 encoded-words for non-ASCII text, RFC 5322 folding under 78 characters.
enum HeaderEncoding {
    static func isPlainASCII(_ text: String) -> Bool {
        text.utf8.allSatisfy { $0 >= 32 && $0 < 127 }
    }

    /// Unstructured text (Subject): ASCII as is, otherwise `=?UTF-8?B?…?=` words of at most 75 characters,
    /// each split on a character boundary.
    static func unstructured(_ text: String) -> [String] {
        if isPlainASCII(text) { return text.split(separator: " ", omittingEmptySubsequences: false).map(String.init) }
        return encodedWords(text)
    }

    /// A display name: an atom list as is, specials in a quoted string, non-ASCII as encoded-words.
    static func displayName(_ name: String) -> [String] {
        if isPlainASCII(name) {
            let specials = Set("()<>[]:;@\\,.\"")
            if !name.contains(where: specials.contains) { return name.split(separator: " ").map(String.init) }
            let escaped = name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            return ["\"\(escaped)\""]
        }
        return encodedWords(name)
    }

    static func encodedWords(_ text: String) -> [String] {
        // 36 bytes of UTF-8 make 48 base64 characters: a 60-character word that fits after any header name.
        var words: [String] = []
        var chunk: [UInt8] = []
        for character in text {
            let bytes = Array(String(character).utf8)
            if chunk.count + bytes.count > 36 {
                words.append(word(chunk))
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty || words.isEmpty { words.append(word(chunk)) }
        return words
    }

    private static func word(_ bytes: [UInt8]) -> String {
        var encoded = Base64Lines.encode(bytes)
        encoded.removeLast(2)
        return "=?UTF-8?B?" + String(decoding: encoded, as: UTF8.self) + "?="
    }

    /// `Name: word word …` folded with CRLF SP so no line passes 78 characters when words allow it.
    static func fold(name: String, words: [String]) -> String {
        var output = name + ":"
        var lineLength = output.count
        for word in words {
            if lineLength + 1 + word.count > 78 && lineLength > name.count + 1 {
                output += "\r\n "
                lineLength = 1
            } else {
                output += " "
                lineLength += 1
            }
            output += word
            lineLength += word.count
        }
        return output + "\r\n"
    }
}
