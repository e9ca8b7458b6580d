/// One JSON value parsed from a line of JSON Lines, with the column (from 1, in Unicode scalars) where it starts.
///
/// Foundation's parser keeps the last of two equal keys and reports no places; this one refuses a duplicate key
/// and knows where every value and key is, so diagnostics can name them.
struct JSONLine {
    enum Kind {
        case string(String)
        /// A number or `true`/`false`, as its JSON text.
        case literal(String)
        case null
        case array([JSONLine])
        case object([Member])
    }

    struct Member {
        var key: String
        var keyColumn: Int
        var value: JSONLine
    }

    struct SyntaxError: Error {
        var column: Int
        var message: String
    }

    var kind: Kind
    var column: Int

    /// What a value is, for messages, never the value itself (it may be a secret).
    var description: String {
        switch kind {
        case .string: "a string"
        case .literal(let text): text == "true" || text == "false" ? "a boolean" : "a number"
        case .null: "null"
        case .array: "a list"
        case .object: "an object"
        }
    }

    /// Parses one line (without its line break). Whitespace around the value is allowed; anything after it is not.
    static func parse(_ bytes: [UInt8]) throws(SyntaxError) -> JSONLine {
        var parser = Parser(bytes: bytes)
        let value = try parser.value(depth: 0)
        parser.skipWhitespace()
        if parser.offset < bytes.count { throw parser.error("unexpected text after the JSON value") }
        return value
    }

    private struct Parser {
        let bytes: [UInt8]
        var offset = 0
        /// The column at `columnOffset`, advanced lazily so long lines stay linear.
        var columnOffset = 0
        var columnAtOffset = 1
        static let maxDepth = 64

        init(bytes: [UInt8]) { self.bytes = bytes }

        mutating func column(at target: Int) -> Int {
            if target < columnOffset { columnOffset = 0; columnAtOffset = 1 }
            while columnOffset < target {
                if bytes[columnOffset] & 0xC0 != 0x80 { columnAtOffset += 1 }
                columnOffset += 1
            }
            // A byte offset inside a multi-byte scalar belongs to that scalar's column.
            return columnAtOffset - (target < bytes.count && bytes[target] & 0xC0 == 0x80 ? 1 : 0)
        }

        mutating func error(_ message: String, at place: Int? = nil) -> SyntaxError {
            SyntaxError(column: column(at: min(place ?? offset, bytes.count)), message: message)
        }

        mutating func skipWhitespace() {
            while offset < bytes.count, [0x20, 0x09, 0x0D, 0x0A].contains(bytes[offset]) { offset += 1 }
        }

        mutating func value(depth: Int) throws(SyntaxError) -> JSONLine {
            skipWhitespace()
            guard offset < bytes.count else { throw error("expected a value") }
            let start = offset
            let startColumn = column(at: start)
            guard depth < Self.maxDepth else { throw error("nested more than \(Self.maxDepth) levels deep") }
            let kind: Kind
            switch bytes[offset] {
            case UInt8(ascii: "{"): kind = .object(try members(depth: depth))
            case UInt8(ascii: "["): kind = .array(try elements(depth: depth))
            case UInt8(ascii: "\""): kind = .string(try string())
            case UInt8(ascii: "t"): try word("true"); kind = .literal("true")
            case UInt8(ascii: "f"): try word("false"); kind = .literal("false")
            case UInt8(ascii: "n"): try word("null"); kind = .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): kind = .literal(try number())
            default: throw error("expected a value")
            }
            return JSONLine(kind: kind, column: startColumn)
        }

        mutating func word(_ text: String) throws(SyntaxError) {
            let expected = Array(text.utf8)
            guard bytes.count - offset >= expected.count, Array(bytes[offset..<offset + expected.count]) == expected else {
                throw error("expected a value")
            }
            offset += expected.count
        }

        mutating func number() throws(SyntaxError) -> String {
            let start = offset
            func digits(_ parser: inout Parser) -> Int {
                let from = parser.offset
                while parser.offset < parser.bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(parser.bytes[parser.offset]) {
                    parser.offset += 1
                }
                return parser.offset - from
            }
            if bytes[offset] == UInt8(ascii: "-") { offset += 1 }
            let leadingZero = offset < bytes.count && bytes[offset] == UInt8(ascii: "0")
            let integer = digits(&self)
            guard integer > 0, !(leadingZero && integer > 1) else { throw error("invalid number", at: start) }
            if offset < bytes.count, bytes[offset] == UInt8(ascii: ".") {
                offset += 1
                guard digits(&self) > 0 else { throw error("invalid number", at: start) }
            }
            if offset < bytes.count, bytes[offset] | 0x20 == UInt8(ascii: "e") {
                offset += 1
                if offset < bytes.count, bytes[offset] == UInt8(ascii: "+") || bytes[offset] == UInt8(ascii: "-") { offset += 1 }
                guard digits(&self) > 0 else { throw error("invalid number", at: start) }
            }
            return String(decoding: bytes[start..<offset], as: UTF8.self)
        }

        mutating func string() throws(SyntaxError) -> String {
            let start = offset
            offset += 1
            var out: [UInt8] = []
            while true {
                guard offset < bytes.count else { throw error("a string is never closed", at: start) }
                let byte = bytes[offset]
                switch byte {
                case UInt8(ascii: "\""):
                    offset += 1
                    return String(decoding: out, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    offset += 1
                    guard offset < bytes.count else { throw error("a string is never closed", at: start) }
                    let escape = bytes[offset]
                    offset += 1
                    switch escape {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escape)
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0C)
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "u"):
                        var code = try hex4()
                        if (0xD800...0xDBFF).contains(code) {
                            guard bytes.count - offset >= 6, bytes[offset] == UInt8(ascii: "\\"), bytes[offset + 1] == UInt8(ascii: "u") else {
                                throw error("an unpaired surrogate escape", at: offset - 6)
                            }
                            offset += 2
                            let low = try hex4()
                            guard (0xDC00...0xDFFF).contains(low) else { throw error("an unpaired surrogate escape", at: offset - 12) }
                            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                        }
                        guard let scalar = Unicode.Scalar(code) else { throw error("an unpaired surrogate escape", at: offset - 6) }
                        out.append(contentsOf: Array(String(Character(scalar)).utf8))
                    default:
                        throw error("an invalid escape in a string", at: offset - 2)
                    }
                default:
                    guard byte >= 0x20 else { throw error("a control character inside a string; escape it") }
                    out.append(byte)
                    offset += 1
                }
            }
        }

        mutating func hex4() throws(SyntaxError) -> UInt32 {
            guard bytes.count - offset >= 4, let code = UInt32(String(decoding: bytes[offset..<offset + 4], as: UTF8.self), radix: 16) else {
                throw error("an invalid \\u escape", at: offset - 2)
            }
            offset += 4
            return code
        }

        mutating func elements(depth: Int) throws(SyntaxError) -> [JSONLine] {
            offset += 1
            var list: [JSONLine] = []
            skipWhitespace()
            if offset < bytes.count, bytes[offset] == UInt8(ascii: "]") { offset += 1; return list }
            while true {
                list.append(try value(depth: depth + 1))
                skipWhitespace()
                guard offset < bytes.count else { throw error("a list is never closed") }
                if bytes[offset] == UInt8(ascii: "]") { offset += 1; return list }
                guard bytes[offset] == UInt8(ascii: ",") else { throw error("expected ',' or ']'") }
                offset += 1
            }
        }

        mutating func members(depth: Int) throws(SyntaxError) -> [Member] {
            offset += 1
            var list: [Member] = []
            var seen: [String: Int] = [:]
            skipWhitespace()
            if offset < bytes.count, bytes[offset] == UInt8(ascii: "}") { offset += 1; return list }
            while true {
                skipWhitespace()
                guard offset < bytes.count, bytes[offset] == UInt8(ascii: "\"") else { throw error("expected a key in quotes") }
                let keyColumn = column(at: offset)
                let key = try string()
                if let first = seen[key] {
                    throw SyntaxError(column: keyColumn, message: "duplicate key '\(key)' (first at column \(first))")
                }
                seen[key] = keyColumn
                skipWhitespace()
                guard offset < bytes.count, bytes[offset] == UInt8(ascii: ":") else { throw error("expected ':' after a key") }
                offset += 1
                list.append(Member(key: key, keyColumn: keyColumn, value: try value(depth: depth + 1)))
                skipWhitespace()
                guard offset < bytes.count else { throw error("an object is never closed") }
                if bytes[offset] == UInt8(ascii: "}") { offset += 1; return list }
                guard bytes[offset] == UInt8(ascii: ",") else { throw error("expected ',' or '}'") }
                offset += 1
            }
        }
    }
}
