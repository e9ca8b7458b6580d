/// Characters that change what a terminal or a reader sees instead of showing themselves: C0 and C1 controls
/// (ESC starts terminal escape sequences, BEL ends window-title ones), DEL, the bidirectional marks, embeddings,
/// overrides and isolates (the "Trojan Source" characters), and the line and paragraph separators.
public enum DisplaySafety {
    /// Whether `scalar` is such a character; line feed and tab count too (`escaped` spares them).
    public static func isUnsafe(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F, 0x061C, 0x200E, 0x200F, 0x2028, 0x2029, 0x202A...0x202E, 0x2066...0x2069: true
        default: false
        }
    }

    /// The first unsafe character in `text` as `U+XXXX`, or nil: for messages that refuse a value without quoting it.
    public static func firstUnsafe(in text: String) -> String? {
        text.unicodeScalars.first(where: isUnsafe).map(codePoint)
    }

    /// `text` with every unsafe character except line feed and tab written as `\uXXXX` (as JSON writes it), so
    /// printing it cannot move the cursor, recolour the terminal, set its title or reorder what follows.
    public static func escaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { isUnsafe($0) && $0 != "\n" && $0 != "\t" }) else { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if isUnsafe(scalar), scalar != "\n", scalar != "\t" {
                out.append(contentsOf: ("\\u" + hex(scalar)).unicodeScalars)
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }

    static func codePoint(_ scalar: Unicode.Scalar) -> String { "U+" + hex(scalar) }

    private static func hex(_ scalar: Unicode.Scalar) -> String {
        let digits = String(scalar.value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
