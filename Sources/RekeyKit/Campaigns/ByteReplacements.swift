/// What to put in place of some ASCII bytes, looked up by the byte.
struct ByteReplacements: Sendable {
    private var table = [String?](repeating: nil, count: 128)

    /// Replaces each key, an ASCII character, by its value.
    init(_ replacements: [Unicode.Scalar: String]) {
        for (scalar, text) in replacements where scalar.isASCII { table[Int(scalar.value)] = text }
    }

    subscript(byte: UInt8) -> String? {
        get { byte < 0x80 ? table[Int(byte)] : nil }
        set { if byte < 0x80 { table[Int(byte)] = newValue } }
    }
}

extension String {
    /// This text with every byte that `replacements` names replaced; `self` when there is none. Only ASCII bytes are
    /// replaced, and they never occur inside a multi-byte UTF-8 sequence.
    func replacingBytes(_ replacements: ByteReplacements) -> String {
        var text = self
        let replaced: String? = text.withUTF8 { bytes in
            guard let first = bytes.firstIndex(where: { replacements[$0] != nil }) else { return nil }
            var out: [UInt8] = []
            out.reserveCapacity(bytes.count + bytes.count / 8 + 8)
            out.append(contentsOf: bytes[..<first])
            for byte in bytes[first...] {
                if let text = replacements[byte] { out.append(contentsOf: text.utf8) } else { out.append(byte) }
            }
            return String(decoding: out, as: UTF8.self)
        }
        return replaced ?? self
    }
}
