import Foundation

/// One recipient read from an audience file.
struct AudienceEntry {
    var line: Int
    var emailColumn: Int
    var email: String
    var name: String?
    var variables: [String: Any]
}

/// Streams an audience file (CSV with an `email` column, or JSON Lines with an `email` key); every other
/// column or key becomes a template variable, and `name` fills `contact_name`. Problems become diagnostics.
final class AudienceReader {
    let file: String
    private let lines: LineReader
    private let format: InstallationImport.Format
    private var header: [String] = []
    private(set) var diagnostics: [Diagnostic] = []

    init(path: String) throws(InputError) {
        file = path
        do { lines = try LineReader(path: path) } catch {
            throw InputError([Diagnostic(file: path, message: "cannot read the audience file")])
        }
        let lower = path.lowercased()
        format = lower.hasSuffix(".jsonl") || lower.hasSuffix(".ndjson") ? .jsonl : .csv
    }

    func error(_ message: String, line: Int, column: Int = 1) {
        diagnostics.append(Diagnostic(file: file, line: line, column: column, message: message))
    }

    /// The next well-formed entry, skipping (and reporting) malformed ones; nil at the end.
    func next() -> AudienceEntry? {
        while true {
            switch format {
            case .jsonl:
                guard let text = lines.next() else { return nil }
                if text.allSatisfy(\.isWhitespace) { continue }
                if let entry = jsonEntry(text, line: lines.lineNumber) { return entry }
            case .csv:
                if header.isEmpty {
                    guard readHeader() else { return nil }
                    continue
                }
                guard let (text, line) = nextCSVRecord() else { return nil }
                if let entry = csvEntry(text, line: line) { return entry }
            }
        }
    }

    private func readHeader() -> Bool {
        while let text = lines.next() {
            if text.allSatisfy(\.isWhitespace) { continue }
            header = ((try? CSVReader.records(text))?.first?.fields ?? []).map { $0.value.trimmingCharacters(in: .whitespaces) }
            if !header.contains("email") {
                error("the header has no 'email' column; expected email, name (optional) and one column per variable", line: lines.lineNumber)
                return false
            }
            return true
        }
        error("the audience file is empty", line: 1)
        return false
    }

    /// One CSV record, joining physical lines while a quoted field is open.
    private func nextCSVRecord() -> (String, Int)? {
        var text: String?
        var start = 0
        while let line = lines.next() {
            if text == nil {
                if line.allSatisfy(\.isWhitespace) { continue }
                text = line
                start = lines.lineNumber
            } else {
                text! += "\n" + line
            }
            if text!.utf8.reduce(0, { $0 + ($1 == UInt8(ascii: "\"") ? 1 : 0) }).isMultiple(of: 2) { break }
        }
        return text.map { ($0, start) }
    }

    private func csvEntry(_ text: String, line: Int) -> AudienceEntry? {
        let record: CSVReader.Record
        do {
            guard let first = try CSVReader.records(text).first else { return nil }
            record = first
        } catch {
            self.error("malformed CSV: \(error.message)", line: line + error.line - 1, column: error.column)
            return nil
        }
        guard record.fields.count == header.count else {
            error("expected \(header.count) fields as in the header, found \(record.fields.count)", line: line)
            return nil
        }
        var variables: [String: Any] = [:]
        var email = "", name: String?, emailColumn = 1
        for (column, field) in zip(header, record.fields) {
            switch column {
            case "email":
                email = field.value.trimmingCharacters(in: .whitespaces)
                emailColumn = field.column
            case "name": name = field.value.isEmpty ? nil : field.value
            default: if !field.value.isEmpty { variables[column] = field.value }
            }
        }
        return AudienceEntry(line: line, emailColumn: emailColumn, email: email, name: name, variables: variables)
    }

    /// A JSON Lines recipient. Values must be strings, numbers or booleans (numbers and booleans render as their
    /// JSON text): null would pass as "present" and render as nothing, and a list or object has no text of its own.
    private func jsonEntry(_ text: String, line: Int) -> AudienceEntry? {
        let members: [JSONLine.Member]
        do {
            let value = try JSONLine.parse(Array(text.utf8))
            guard case .object(let list) = value.kind else {
                error("expected a JSON object, found \(value.description)", line: line, column: value.column)
                return nil
            }
            members = list
        } catch {
            self.error("invalid JSON: \(error.message)", line: line, column: error.column)
            return nil
        }
        var variables: [String: Any] = [:]
        var email: String?, name: String?, emailColumn = 1
        var refused = false
        for member in members {
            let value: String
            switch member.value.kind {
            case .string(let string): value = string
            case .literal(let literal) where member.key != "email": value = literal
            default:
                let expected = member.key == "email" ? "a string" : "a string, number or boolean"
                error("'\(member.key)' must be \(expected), found \(member.value.description)", line: line, column: member.value.column)
                refused = true
                continue
            }
            switch member.key {
            case "email":
                email = value.trimmingCharacters(in: .whitespaces)
                emailColumn = member.keyColumn
            case "name": name = value
            default: variables[member.key] = value
            }
        }
        guard !refused else { return nil }
        guard let email else {
            error("missing 'email' (a string)", line: line)
            return nil
        }
        return AudienceEntry(line: line, emailColumn: emailColumn, email: email, name: name, variables: variables)
    }
}
