/// Quoted-printable (RFC 2045 §6.7) for UTF-8 text bodies: lines of at most 76 characters,
/// CRLF hard breaks, `=` soft breaks, trailing white space encoded.
public enum QuotedPrintable {
    private static let hex = Array("0123456789ABCDEF".utf8)

    public static func encode(_ text: String) -> [UInt8] {
        var text = text
        return text.withUTF8 { bytes in
            // At most 3 characters per byte, plus a 3-byte soft break per 25 bytes: 4 per byte is enough.
            [UInt8](unsafeUninitializedCapacity: bytes.count * 4 + 16) { out, written in
                var lineLength = 0
                var count = 0
                func put(_ byte: UInt8) { out[count] = byte; count += 1 }
                var index = 0
                while index < bytes.count {
                    let byte = bytes[index]
                    if byte == 13, index + 1 < bytes.count, bytes[index + 1] == 10 { index += 1; continue }
                    if byte == 10 || byte == 13 {
                        put(13); put(10)
                        lineLength = 0
                        index += 1
                        continue
                    }
                    let atLineEnd = index + 1 == bytes.count || bytes[index + 1] == 10 || bytes[index + 1] == 13
                    let literal = (byte >= 33 && byte <= 126 && byte != 61) || ((byte == 32 || byte == 9) && !atLineEnd)
                    let width = literal ? 1 : 3
                    if lineLength + width > 75 {  // soft break: "=" CRLF, so no line passes 76 characters
                        put(61); put(13); put(10)
                        lineLength = 0
                    }
                    if literal {
                        put(byte)
                    } else {
                        put(61); put(hex[Int(byte >> 4)]); put(hex[Int(byte & 15)])
                    }
                    lineLength += width
                    index += 1
                }
                written = count
            }
        }
    }
}

/// Base64 body encoding in lines of 76 characters, CRLF-terminated.
public enum Base64Lines {
    public static func encode(_ bytes: [UInt8]) -> [UInt8] {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 4 / 3 + bytes.count / 57 * 2 + 8)
        var lineLength = 0
        var index = 0
        while index < bytes.count {
            let b0 = bytes[index]
            let b1 = index + 1 < bytes.count ? bytes[index + 1] : 0
            let b2 = index + 2 < bytes.count ? bytes[index + 2] : 0
            out.append(alphabet[Int(b0 >> 2)])
            out.append(alphabet[Int((b0 & 0x03) << 4 | b1 >> 4)])
            out.append(index + 1 < bytes.count ? alphabet[Int((b1 & 0x0F) << 2 | b2 >> 6)] : UInt8(ascii: "="))
            out.append(index + 2 < bytes.count ? alphabet[Int(b2 & 0x3F)] : UInt8(ascii: "="))
            index += 3
            lineLength += 4
            if lineLength == 76 && index < bytes.count {
                out.append(13); out.append(10)
                lineLength = 0
            }
        }
        out.append(13); out.append(10)
        return out
    }
}
