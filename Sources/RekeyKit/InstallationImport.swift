import Foundation

/// One installation read from an import file: validated, with its secrets still in memory only.
public struct InstallationDraft: Sendable {
    public var line: Int
    public var customer: String
    public var integration: String
    public var contacts: [String]
    public var config: [String: String]
    public var secrets: [String: Secret]
}

/// Reads installations from CSV or JSON Lines and validates every row against the registry.
///
/// CSV: a header row with `customer`, `integration`, `contacts` (separated by `;`), then `config.NAME`
/// and `secret.NAME` columns. JSON Lines: one object per line with `customer`, `integration`,
/// `contacts` (a list), `config` and `secrets` (objects of strings). Diagnostics never quote a secret.
public enum InstallationImport {
    public enum Format: String, Sendable { case csv, jsonl }

    public static func format(of path: String, text: String) -> Format {
        let lower = path.lowercased()
        if lower.hasSuffix(".csv") { return .csv }
        if lower.hasSuffix(".jsonl") || lower.hasSuffix(".ndjson") { return .jsonl }
        return text.drop(while: \.isWhitespace).first == "{" ? .jsonl : .csv
    }

    /// Parses and validates the file. Any bad row fails the whole file, with every problem listed.
    public static func read(path: String, registry: Registry) throws(InputError) -> [InstallationDraft] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InputError([Diagnostic(file: path, line: 1, column: 1, message: "cannot read the file")])
        }
        let text = try TextPlace.utf8Text(data, file: path, what: "the file")
        return try parse(text, file: path, format: format(of: path, text: text), registry: registry)
    }

    public static func parse(_ text: String, file: String, format: Format, registry: Registry) throws(InputError) -> [InstallationDraft] {
        var validator = RowValidator(file: file, registry: registry)
        switch format {
        case .csv: validator.readCSV(text)
        case .jsonl: validator.readJSONLines(text)
        }
        if validator.drafts.isEmpty && validator.diagnostics.isEmpty {
            validator.error("the file holds no installations", line: 1, column: 1)
        }
        guard validator.diagnostics.isEmpty else { throw validator.diagnostics.error }
        return validator.drafts
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
    var drafts: [InstallationDraft] = []
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

    mutating func readCSV(_ text: String) {
        let records: [CSVReader.Record]
        do {
            records = try CSVReader.records(text)
        } catch {
            self.error("malformed CSV: \(error.message)", line: error.line, column: error.column)
            return
        }
        guard let header = records.first else { return }
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
        for record in records.dropFirst() {
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
            validate(row)
        }
    }

    // MARK: JSON Lines

    mutating func readJSONLines(_ text: String) {
        var line = 0
        for rawLine in text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            line += 1
            var bytes = Array(rawLine)
            if bytes.last == 13 { bytes.removeLast() }
            guard !bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) else { continue }
            do {
                let value = try JSONLine.parse(bytes)
                guard case .object(let members) = value.kind else {
                    error("expected a JSON object, found \(value.description)", line: line, column: value.column)
                    continue
                }
                readJSONObject(members, line: line)
            } catch {
                self.error("invalid JSON: \(error.message)", line: line, column: error.column)
            }
        }
    }

    private mutating func readJSONObject(_ members: [JSONLine.Member], line: Int) {
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
        validate(row)
    }

    // MARK: Rules shared by both formats

    mutating func validate(_ row: RawRow) {
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
            return
        }
        guard let integration = registry.integration(integrationField.value) else {
            // Not quoted: when a header does not match its data, this column may hold a secret.
            let known = registry.integrations.map(\.id).joined(separator: ", ")
            error("unknown integration; the registry has: \(known)", line: integrationField.line, column: integrationField.column)
            return
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
        guard diagnostics.total == before else { return }
        var contacts: [String] = []
        for contact in row.contacts.map(\.value) where !contacts.contains(contact) { contacts.append(contact) }
        drafts.append(InstallationDraft(
            line: row.line, customer: customer, integration: integration.id, contacts: contacts,
            config: row.config.mapValues(\.value), secrets: row.secrets.mapValues { Secret($0.value) }))
    }
}
