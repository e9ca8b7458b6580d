import Foundation

/// Where things sit in a text file, for diagnostics that name the real place.
enum TextPlace {
    /// The line and column (in Unicode scalars, both from 1) of the first byte that is not UTF-8; nil when every
    /// byte is. Only called once a file has failed to decode, so its cost is paid on the error path alone.
    static func firstInvalidUTF8(in data: Data) -> (line: Int, column: Int)? {
        var iterator = data.makeIterator()
        var parser = Unicode.UTF8.ForwardParser()
        var line = 1, column = 1
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let encoded):
                if encoded.count == 1, encoded.first == 10 { line += 1; column = 1 } else { column += 1 }
            case .emptyInput:
                return nil
            case .error:
                return (line, column)
            }
        }
    }

    /// The text of `data`, or a diagnostic naming the place of the first byte that is not UTF-8.
    static func utf8Text(_ data: Data, file: String, what: String) throws(InputError) -> String {
        if let text = String(data: data, encoding: .utf8) { return text }
        let place = firstInvalidUTF8(in: data) ?? (1, 1)
        throw InputError([notUTF8(what, file: file, line: place.line, column: place.column)])
    }

    static func notUTF8(_ what: String, file: String, line: Int, column: Int) -> Diagnostic {
        Diagnostic(file: file, line: line, column: column, message: "\(what) is not UTF-8 text: the bytes here are not UTF-8; save it as UTF-8")
    }
}
