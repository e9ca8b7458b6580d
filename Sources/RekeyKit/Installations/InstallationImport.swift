import Foundation

/// One installation read from an import file: validated, with its secrets still in memory only.
public struct InstallationDraft: Sendable {
    /// The file line its row starts on, from 1.
    public var line: Int
    /// The customer's name, trimmed of spaces and tabs; unique per integration in one file.
    public var customer: String
    /// The registry id of its integration.
    public var integration: String
    /// Valid email addresses, duplicates dropped, in file order; at least one.
    public var contacts: [String]
    /// Exactly the integration's config fields, by name.
    public var config: [String: String]
    /// The integration's secret fields by name, each non-empty.
    public var secrets: [String: Secret]
}

/// Reads installations from CSV or JSON Lines and validates every row against the registry.
///
/// CSV: a header row with `customer`, `integration`, `contacts` (separated by `;`), then `config.NAME`
/// and `secret.NAME` columns. JSON Lines: one object per line with `customer`, `integration`,
/// `contacts` (a list), `config` and `secrets` (objects of strings). Diagnostics never quote a secret.
public enum InstallationImport {
    /// `csv`: a header row, then one installation per record; `jsonl`: one JSON object per line.
    public enum Format: String, Sendable { case csv, jsonl }

    /// The format by extension (`.csv`; `.jsonl` or `.ndjson`), or else JSON Lines when `text` (the file's start)
    /// begins with `{` after whitespace, CSV otherwise.
    public static func format(of path: String, text: String) -> Format {
        let lower = path.lowercased()
        if lower.hasSuffix(".csv") { return .csv }
        if lower.hasSuffix(".jsonl") || lower.hasSuffix(".ndjson") { return .jsonl }
        return text.drop(while: \.isWhitespace).first == "{" ? .jsonl : .csv
    }

    /// Parses and validates the file. Any bad row fails the whole file, with every problem listed.
    /// Holds every row in memory: `validate(path:registry:)` and `forEach(path:registry:_:)` stream instead.
    public static func read(path: String, registry: Registry) throws(InputError) -> [InstallationDraft] {
        var drafts: [InstallationDraft] = []
        let diagnostics = scan(try lines(of: path), file: path, format: format(of: path), registry: registry) { drafts.append($0) }
        guard diagnostics.isEmpty else { throw diagnostics.error }
        return drafts
    }

    /// Parses and validates text already in memory; `file` names it in diagnostics. Like `read`, all or nothing.
    public static func parse(_ text: String, file: String, format: Format, registry: Registry) throws(InputError) -> [InstallationDraft] {
        var drafts: [InstallationDraft] = []
        let diagnostics = scan(LineSource(text: text), file: file, format: format, registry: registry) { drafts.append($0) }
        guard diagnostics.isEmpty else { throw diagnostics.error }
        return drafts
    }

    /// Checks the whole file against the registry, row by row, keeping no row: memory stays flat whatever the
    /// file's size (only each installation's integration and customer are remembered, to refuse duplicates).
    /// Any bad row fails the whole file, with every problem listed. Returns how many installations it holds.
    public static func validate(path: String, registry: Registry) throws(InputError) -> Int {
        var count = 0
        let diagnostics = scan(try lines(of: path), file: path, format: format(of: path), registry: registry) { _ in count += 1 }
        guard diagnostics.isEmpty else { throw diagnostics.error }
        return count
    }

    /// Reads a file that `validate` accepted again, handing each installation to `body` as it is read. Should the
    /// file have changed in between and now hold a problem, this throws it after the rows before it were handed
    /// over: run it inside the transaction that writes them, so that the whole import rolls back.
    public static func forEach(path: String, registry: Registry, _ body: (InstallationDraft) throws -> Void) throws {
        let diagnostics = try scan(try lines(of: path), file: path, format: format(of: path), registry: registry, body)
        guard diagnostics.isEmpty else { throw diagnostics.error }
    }

    private static func lines(of path: String) throws(InputError) -> LineSource {
        do { return try LineSource(path: path) } catch {
            throw InputError([Diagnostic(file: path, message: "cannot read the file")])
        }
    }

    /// The format by the file's name, or else by its first bytes.
    private static func format(of path: String) -> Format {
        let head = (try? FileHandle(forReadingFrom: URL(fileURLWithPath: path)).read(upToCount: 4096)) ?? nil
        return format(of: path, text: String(decoding: head ?? Data(), as: UTF8.self))
    }

    private static func scan(_ lines: LineSource, file: String, format: Format, registry: Registry,
                             _ emit: (InstallationDraft) throws -> Void) rethrows -> DiagnosticList {
        var validator = RowValidator(file: file, registry: registry)
        switch format {
        case .csv: try validator.readCSV(lines, emit)
        case .jsonl: try validator.readJSONLines(lines, emit)
        }
        if validator.count == 0 && validator.diagnostics.isEmpty {
            validator.diagnostics.append(Diagnostic(file: file, message: "the file holds no installations"))
        }
        return validator.diagnostics
    }
}

/// The lines of an import as bytes, without their line break or a trailing CR, numbered from 1.
private final class LineSource {
    private let readLine: () -> [UInt8]?
    private(set) var number = 0

    init(text: String) {
        var lines = Array(text.utf8).split(separator: 10, omittingEmptySubsequences: false).makeIterator()
        readLine = { lines.next().map(Array.init) }
    }

    init(path: String) throws {
        let reader = try LineReader(path: path)
        readLine = { reader.nextBytes() }
    }

    func next() -> [UInt8]? {
        guard var line = readLine() else { return nil }
        number += 1
        if line.last == 13 { line.removeLast() }
        return line
    }
}

/// A raw value and where it sits in the file.
private struct Located {
    var value: String
    var line: Int
    var column: Int
}

private struct RawRow {
    var line: Int
    var customer: Located?
    var integration: Located?
    var contacts: [Located] = []
    var contactsPlace: (line: Int, column: Int)
    var config: [String: Located] = [:]
    var secrets: [String: Located] = [:]
}

private struct RowValidator {
    let file: String
    let registry: Registry
    var diagnostics: DiagnosticList
    /// How many valid installations were handed over.
    var count = 0
    var seen: [String: Int] = [:]

    init(file: String, registry: Registry) {
        self.file = file
        self.registry = registry
        diagnostics = DiagnosticList(file: file)
    }

    mutating func error(_ message: String, line: Int, column: Int) {
        diagnostics.add(message, line: line, column: column)
    }

    // MARK: CSV

    /// Reports bytes that are not UTF-8 at their line and column; true when the line is UTF-8.
    mutating func checkUTF8(_ bytes: [UInt8], line: Int) -> Bool {
        guard String(validating: bytes, as: UTF8.self) == nil else { return true }
        diagnostics.append(TextPlace.notUTF8("the file", file: file, line: line,
                                             column: TextPlace.firstInvalidUTF8(in: Data(bytes))?.column ?? 1))
        return false
    }

    /// One CSV record's text and its first line, joining lines while a quoted field is open; nil at the end
    /// (or at bytes that are not UTF-8, which end a CSV file's reading).
    mutating func nextRecord(_ lines: LineSource) -> (text: String, line: Int)? {
        var text: String?
        var start = 0, quotes = 0
        while let bytes = lines.next() {
            guard checkUTF8(bytes, line: lines.number) else { return nil }
            let line = String(decoding: bytes, as: UTF8.self)
            if let open = text {
                text = open + "\n" + line
            } else {
                guard !bytes.isEmpty else { continue }
                text = line
                start = lines.number
            }
            quotes += bytes.reduce(0) { $0 + ($1 == UInt8(ascii: "\"") ? 1 : 0) }
            if quotes.isMultiple(of: 2) { break }
        }
        return text.map { ($0, start) }
    }

    /// The records of the next CSV record's text, with lines counted from the start of the file.
    mutating func nextRecords(_ lines: LineSource) -> [CSVReader.Record]? {
        guard let (text, start) = nextRecord(lines) else { return nil }
        do {
            return try CSVReader.records(text).map { record in
                CSVReader.Record(line: start + record.line - 1, fields: record.fields.map {
                    CSVReader.Field(value: $0.value, line: start + $0.line - 1, column: $0.column, quoted: $0.quoted)
                })
            }
        } catch {
            self.error("malformed CSV: \(error.message)", line: start + error.line - 1, column: error.column)
            return nil
        }
    }

    mutating func readCSV(_ lines: LineSource, _ emit: (InstallationDraft) throws -> Void) rethrows {
        guard let header = nextRecords(lines)?.first else { return }
        let names = header.fields.map { $0.value.trimmingCharacters(in: .whitespaces) }
        for required in ["customer", "integration", "contacts"] where !names.contains(required) {
            error("the header has no '\(required)' column; expected customer, integration, contacts, config.NAME…, secret.NAME…",
                  line: header.line, column: 1)
        }
        var firstColumn: [String: Int] = [:]
        for (index, name) in names.enumerated() {
            let field = header.fields[index]
            if let first = firstColumn[name] {
                error("duplicate column '\(name)' (first at column \(first)); each column may appear once", line: field.line, column: field.column)
            }
            firstColumn[name] = firstColumn[name] ?? field.column
            let known = ["customer", "integration", "contacts"].contains(name) || name.hasPrefix("config.") || name.hasPrefix("secret.")
            if !known {
                error("unknown column '\(name)'; expected customer, integration, contacts, config.NAME or secret.NAME", line: field.line, column: field.column)
            }
        }
        guard diagnostics.isEmpty else { return }
        while let records = nextRecords(lines) {
            for record in records {
                guard record.fields.count == names.count else {
                    error("expected \(names.count) fields as in the header, found \(record.fields.count)", line: record.line, column: 1)
                    continue
                }
                var row = RawRow(line: record.line, contactsPlace: (record.line, 1))
                for (name, field) in zip(names, record.fields) {
                    let located = Located(value: field.value, line: field.line, column: field.column)
                    switch name {
                    case "customer": row.customer = located
                    case "integration": row.integration = located
                    case "contacts":
                        row.contactsPlace = (field.line, field.column)
                        row.contacts = field.value.split(separator: ";").map {
                            Located(value: $0.trimmingCharacters(in: .whitespaces), line: field.line, column: field.column)
                        }
                    default:
                        // Empty cells mean "not set": a CSV mixing integrations has columns that some rows don't use.
                        guard !field.value.isEmpty else { continue }
                        if name.hasPrefix("config.") { row.config[String(name.dropFirst(7))] = located }
                        else { row.secrets[String(name.dropFirst(7))] = located }
                    }
                }
                if let draft = validate(row) { try emit(draft) }
            }
        }
    }

    // MARK: JSON Lines

    mutating func readJSONLines(_ lines: LineSource, _ emit: (InstallationDraft) throws -> Void) rethrows {
        while let bytes = lines.next() {
            let line = lines.number
            guard !bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }), checkUTF8(bytes, line: line) else { continue }
            let members: [JSONLine.Member]
            do {
                let value = try JSONLine.parse(bytes)
                guard case .object(let object) = value.kind else {
                    error("expected a JSON object, found \(value.description)", line: line, column: value.column)
                    continue
                }
                members = object
            } catch {
                self.error("invalid JSON: \(error.message)", line: line, column: error.column)
                continue
            }
            if let draft = readJSONObject(members, line: line) { try emit(draft) }
        }
    }

    private mutating func readJSONObject(_ members: [JSONLine.Member], line: Int) -> InstallationDraft? {
        let keys = ["customer", "integration", "contacts", "config", "secrets"]
        var fields: [String: JSONLine] = [:]
        for member in members {
            if keys.contains(member.key) {
                fields[member.key] = member.value
            } else {
                error("unknown key '\(member.key)'; expected \(keys.joined(separator: ", "))", line: line, column: member.keyColumn)
            }
        }
        func located(_ key: String, _ value: JSONLine?) -> Located? {
            guard let value else { return nil }
            guard case .string(let string) = value.kind else {
                error("'\(key)' must be a string, found \(value.description)", line: line, column: value.column)
                return nil
            }
            return Located(value: string, line: line, column: value.column)
        }
        var row = RawRow(line: line, contactsPlace: (line, fields["contacts"]?.column ?? 1))
        row.customer = located("customer", fields["customer"])
        row.integration = located("integration", fields["integration"])
        if let contacts = fields["contacts"] {
            switch contacts.kind {
            case .array(let list): row.contacts = list.compactMap { located("contacts", $0) }
            case .string: row.contacts = located("contacts", contacts).map { [$0] } ?? []
            default: error("'contacts' must be a list of email addresses, found \(contacts.description)", line: line, column: contacts.column)
            }
        }
        for key in ["config", "secrets"] {
            guard let value = fields[key] else { continue }
            guard case .object(let map) = value.kind else {
                error("'\(key)' must be an object of strings, found \(value.description)", line: line, column: value.column)
                continue
            }
            for member in map {
                guard let place = located("\(key).\(member.key)", member.value) else { continue }
                if key == "config" { row.config[member.key] = place } else { row.secrets[member.key] = place }
            }
        }
        return validate(row)
    }

    // MARK: Rules shared by both formats

    /// The row as an installation, or nil after recording each of its problems.
    mutating func validate(_ row: RawRow) -> InstallationDraft? {
        let before = diagnostics.total
        let customer = row.customer?.value.trimmingCharacters(in: .whitespaces) ?? ""
        if customer.isEmpty {
            error("missing customer", line: row.customer?.line ?? row.line, column: row.customer?.column ?? 1)
        } else if let unsafe = DisplaySafety.firstUnsafe(in: customer) {
            error("the customer name contains a control or bidirectional character (\(unsafe))", line: row.customer!.line, column: row.customer!.column)
        }
        for (name, place) in row.config.sorted(by: { $0.key < $1.key }) {
            if let unsafe = DisplaySafety.firstUnsafe(in: place.value) {
                error("config field '\(name)' contains a control or bidirectional character (\(unsafe))", line: place.line, column: place.column)
            }
        }
        guard let integrationField = row.integration, !integrationField.value.isEmpty else {
            error("missing integration", line: row.line, column: 1)
            return nil
        }
        guard let integration = registry.integration(integrationField.value) else {
            // Not quoted: when a header does not match its data, this column may hold a secret.
            let known = registry.integrations.map(\.id).joined(separator: ", ")
            error("unknown integration; the registry has: \(known)", line: integrationField.line, column: integrationField.column)
            return nil
        }
        if row.contacts.isEmpty {
            error("customer '\(customer)' has no contact email", line: row.contactsPlace.line, column: row.contactsPlace.column)
        }
        // Not quoted: when a header does not match its data, this column may hold a secret.
        for (index, contact) in row.contacts.enumerated() where !EmailAddress.isValid(contact.value) {
            let which = row.contacts.count == 1 ? "the contact" : "contact \(index + 1) of \(row.contacts.count)"
            error("customer '\(customer)': \(which) is not an email address", line: contact.line, column: contact.column)
        }
        for (name, place) in row.config.sorted(by: { $0.key < $1.key }) where !integration.config.contains(name) {
            error("unknown config field '\(name)' for \(integration.id); expected: \(integration.config.joined(separator: ", "))", line: place.line, column: place.column)
        }
        for name in integration.config where row.config[name] == nil {
            error("customer '\(customer)': missing config field '\(name)' for \(integration.id)", line: row.line, column: 1)
        }
        for (name, place) in row.secrets.sorted(by: { $0.key < $1.key }) where !integration.secrets.contains(name) {
            let expected = integration.secrets.isEmpty ? "none" : integration.secrets.joined(separator: ", ")
            error("unknown secret field '\(name)' for \(integration.id); expected: \(expected)", line: place.line, column: place.column)
        }
        for name in integration.secrets where (row.secrets[name]?.value ?? "").isEmpty {
            error("customer '\(customer)': missing secret field '\(name)' for \(integration.id)", line: row.line, column: 1)
        }
        let key = "\(integration.id)\u{0}\(customer)"
        if let first = seen[key] {
            error("customer '\(customer)' already has a \(integration.id) installation at line \(first)", line: row.line, column: 1)
        }
        seen[key] = seen[key] ?? row.line
        guard diagnostics.total == before else { return nil }
        var contacts: [String] = []
        for contact in row.contacts.map(\.value) where !contacts.contains(contact) { contacts.append(contact) }
        count += 1
        return InstallationDraft(
            line: row.line, customer: customer, integration: integration.id, contacts: contacts,
            config: row.config.mapValues(\.value), secrets: row.secrets.mapValues { Secret($0.value) })
    }
}
