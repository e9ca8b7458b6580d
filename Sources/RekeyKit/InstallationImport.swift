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
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw InputError([Diagnostic(file: path, line: 1, column: 1, message: "cannot read the file as UTF-8 text")])
        }
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
        for (index, name) in names.enumerated() {
            let known = ["customer", "integration", "contacts"].contains(name) || name.hasPrefix("config.") || name.hasPrefix("secret.")
            if !known {
                let field = header.fields[index]
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
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = index + 1
            let content = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
            guard !content.allSatisfy(\.isWhitespace) else { continue }
            guard let object = (try? JSONSerialization.jsonObject(with: Data(content.utf8))) as? [String: Any] else {
                error("not a JSON object", line: line, column: 1)
                continue
            }
            func column(of key: String) -> Int {
                guard let range = content.range(of: "\"\(key)\"") else { return 1 }
                return content.distance(from: content.startIndex, to: range.lowerBound) + 1
            }
            func located(_ key: String, _ value: Any?) -> Located? {
                guard let value else { return nil }
                guard let string = value as? String else {
                    error("'\(key)' must be a string", line: line, column: column(of: key))
                    return nil
                }
                return Located(value: string, line: line, column: column(of: key))
            }
            for key in object.keys where !["customer", "integration", "contacts", "config", "secrets"].contains(key) {
                error("unknown key '\(key)'; expected customer, integration, contacts, config, secrets", line: line, column: column(of: key))
            }
            var row = RawRow(line: line, contactsPlace: (line, column(of: "contacts")))
            row.customer = located("customer", object["customer"])
            row.integration = located("integration", object["integration"])
            switch object["contacts"] {
            case let list as [Any]:
                row.contacts = list.compactMap { located("contacts", $0) }
            case let single as String:
                row.contacts = [Located(value: single, line: line, column: column(of: "contacts"))]
            case nil: break
            default: error("'contacts' must be a list of email addresses", line: line, column: column(of: "contacts"))
            }
            for key in ["config", "secrets"] {
                guard let value = object[key] else { continue }
                guard let map = value as? [String: Any] else {
                    error("'\(key)' must be an object of strings", line: line, column: column(of: key))
                    continue
                }
                for (name, item) in map {
                    guard let string = item as? String else {
                        error("'\(key).\(name)' must be a string", line: line, column: column(of: name))
                        continue
                    }
                    let place = Located(value: string, line: line, column: column(of: name))
                    if key == "config" { row.config[name] = place } else { row.secrets[name] = place }
                }
            }
            validate(row)
        }
    }

    // MARK: Rules shared by both formats

    mutating func validate(_ row: RawRow) {
        let before = diagnostics.total
        let customer = row.customer?.value.trimmingCharacters(in: .whitespaces) ?? ""
        if customer.isEmpty {
            error("missing customer", line: row.customer?.line ?? row.line, column: row.customer?.column ?? 1)
        } else if customer.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            error("customer contains a control character", line: row.customer!.line, column: row.customer!.column)
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
