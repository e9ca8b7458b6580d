import Foundation
import Yams

extension RegistryParser {
    /// The known keys of one mapping, read with a type each; a wrong or missing value becomes a diagnostic.
    struct Fields {
        let parser: RegistryParser
        let node: Node
        let context: String
        let values: [String: Node]
        /// Placeholders a URL may start with, such as `{base_url}`.
        let templates: Set<String>

        subscript(key: String) -> Node? { values[key] }

        private func missing(_ key: String, _ expected: String) {
            parser.error("missing required key '\(key)' in \(context); expected \(expected)", at: node)
        }

        func required(_ key: String, because reason: String) -> Node? {
            guard let value = values[key] else {
                parser.error("missing required key '\(key)' in \(context), needed for \(reason)", at: node)
                return nil
            }
            return value
        }

        func string(_ key: String, required: Bool = false) -> String? {
            guard let value = values[key] else {
                if required { missing(key, "a string") }
                return nil
            }
            guard case .scalar(let scalar) = value, value.null == nil else {
                parser.error("'\(key)' in \(context) must be a string, found \(parser.kind(of: value))", at: value)
                return nil
            }
            if scalar.string.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" }) {
                parser.error("'\(key)' in \(context) must be a single line", at: value)
                return nil
            }
            if let unsafe = DisplaySafety.firstUnsafe(in: scalar.string) {
                parser.error("'\(key)' in \(context) contains a control or bidirectional character (\(unsafe))", at: value)
                return nil
            }
            return scalar.string
        }

        static let identifierBytes = Set("abcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

        /// A lowercase identifier: letters, digits, `-` and `_`, starting with a letter.
        func identifier(_ key: String) -> String? {
            guard let text = string(key, required: true) else { return nil }
            guard let first = text.first, first.isLetter, first.isLowercase, text.utf8.allSatisfy(Self.identifierBytes.contains) else {
                parser.error("'\(key)' in \(context) must be a lowercase identifier (letters, digits, '-', '_'), found '\(text)'", at: values[key])
                return nil
            }
            return text
        }

        func int(_ key: String, required: Bool = false) -> Int? {
            guard let value = values[key] else {
                if required { missing(key, "an integer") }
                return nil
            }
            guard case .scalar(let scalar) = value, let number = Int(scalar.string) else {
                parser.error("'\(key)' in \(context) must be an integer, found \(describe(value))", at: value)
                return nil
            }
            return number
        }

        func bool(_ key: String) -> Bool? {
            guard let value = values[key] else { return nil }
            guard case .scalar(let scalar) = value, scalar.style == .plain, let flag = Self.yamlBool[scalar.string] else {
                parser.error("'\(key)' in \(context) must be true or false, found \(describe(value))", at: value)
                return nil
            }
            return flag
        }

        /// YAML 1.1 booleans, as Yams' default resolver and constructor read them (plain scalars only).
        static let yamlBool: [String: Bool] = [
            "true": true, "True": true, "TRUE": true, "yes": true, "Yes": true, "YES": true, "on": true, "On": true, "ON": true,
            "false": false, "False": false, "FALSE": false, "no": false, "No": false, "NO": false, "off": false, "Off": false, "OFF": false,
        ]

        func enumeration<E: RawRepresentable & CaseIterable>(_ key: String, _ type: E.Type, required: Bool = false) -> E?
        where E.RawValue == String {
            let choices = E.allCases.map(\.rawValue).joined(separator: ", ")
            guard values[key] != nil else {
                if required { missing(key, "one of: \(choices)") }
                return nil
            }
            guard let text = string(key) else { return nil }
            guard let value = E(rawValue: text) else {
                parser.error("'\(key)' in \(context) must be one of: \(choices); found '\(text)'", at: values[key])
                return nil
            }
            return value
        }

        /// An absolute http(s) URL, or one that starts with a config placeholder such as `{base_url}/path`.
        func url(_ key: String, required: Bool = false) -> String? {
            guard values[key] != nil else {
                if required { missing(key, "a URL") }
                return nil
            }
            guard let text = string(key) else { return nil }
            if let components = URLComponents(string: text), components.user != nil || components.password != nil {
                // Not echoed: the part before @ may be a password.
                parser.error("'\(key)' in \(context) holds credentials (user:password@); partners.yaml holds no secrets, "
                             + "so remove them (webhooks are authenticated by their signing secret)", at: values[key])
                return nil
            }
            if let problem = Self.urlProblem(text, templates: templates) {
                parser.error("'\(key)' in \(context) is not a URL: \(problem)", at: values[key])
                return nil
            }
            return text
        }

        static func urlProblem(_ text: String, templates: Set<String>) -> String? {
            var probe = text
            for name in placeholders(in: text) {
                guard templates.contains(name) else {
                    let known = templates.sorted().map { "{\($0)}" }.joined(separator: ", ")
                    return "unknown placeholder {\(name)}" + (known.isEmpty ? "" : "; the integration's config fields are \(known)")
                }
                probe = probe.replacingOccurrences(of: "{\(name)}", with: text.hasPrefix("{\(name)}") ? "https://placeholder.invalid" : "x")
            }
            guard !probe.contains(where: { $0 == " " || $0 == "\t" }) else { return "'\(text)' contains whitespace" }
            guard let components = URLComponents(string: probe), let scheme = components.scheme?.lowercased() else {
                return "expected an absolute http or https URL, found '\(text)'"
            }
            guard scheme == "https" || scheme == "http" else { return "expected http or https, found '\(scheme):'" }
            guard let host = components.host, !host.isEmpty else { return "'\(text)' has no host" }
            return nil
        }

        private static func placeholders(in text: String) -> [String] {
            var names: [String] = []
            var rest = Substring(text)
            while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
                names.append(String(rest[rest.index(after: open)..<close]))
                rest = rest[rest.index(after: close)...]
            }
            return names
        }

        func email(_ key: String, required: Bool = false) -> String? {
            guard values[key] != nil else {
                if required { missing(key, "an email address") }
                return nil
            }
            guard let text = string(key) else { return nil }
            guard EmailAddress.isValid(text) else {
                parser.error("'\(key)' in \(context) is not an email address: '\(text)'", at: values[key])
                return nil
            }
            return text
        }

        func secretReference(_ key: String, required: Bool = false) -> SecretReference? {
            let forms = SecretReference.Source.allCases.map { "\($0.rawValue):NAME" }.joined(separator: ", ")
            guard values[key] != nil else {
                if required { missing(key, "a secret reference (\(forms))") }
                return nil
            }
            guard let text = string(key) else { return nil }
            guard let reference = SecretReference(text) else {
                parser.error("'\(key)' in \(context) must say where the secret comes from (\(forms)), not hold it", at: values[key])
                return nil
            }
            return reference
        }

        /// A rate such as `10/s` or `600/min`, in events per second.
        func rate(_ key: String) -> Double? {
            guard values[key] != nil, let text = string(key) else { return nil }
            let parts = text.split(separator: "/")
            let units: [String: Double] = ["s": 1, "min": 60, "h": 3600]
            guard parts.count == 2, let count = Double(parts[0]), count > 0, let seconds = units[String(parts[1])] else {
                parser.error("'\(key)' in \(context) must be a rate such as 10/s, 600/min or 1000/h; found '\(text)'", at: values[key])
                return nil
            }
            return count / seconds
        }

        func list<T>(_ key: String, required: Bool = false, _ element: (Node) -> T?) -> [(value: T, node: Node)]? {
            guard let value = values[key] else {
                if required { missing(key, "a list") }
                return nil
            }
            guard case .sequence(let sequence) = value else {
                parser.error("'\(key)' in \(context) must be a list, found \(parser.kind(of: value))", at: value)
                return nil
            }
            return sequence.compactMap { node in element(node).map { ($0, node) } }
        }

        func stringList(_ key: String, required: Bool = false) -> [String]? {
            list(key, required: required) { parser.scalarString($0, what: "a string in '\(key)'") }?.map(\.value)
        }

        func stringMap(_ key: String) -> [String: String]? {
            guard let value = values[key] else { return nil }
            guard case .mapping(let mapping) = value else {
                parser.error("'\(key)' in \(context) must be a mapping of names to strings, found \(parser.kind(of: value))", at: value)
                return nil
            }
            var result: [String: String] = [:]
            for (name, item) in mapping {
                guard let name = name.scalar?.string, let text = parser.scalarString(item, what: "a string") else { continue }
                result[name] = text
            }
            return result
        }

        /// A mapping of names to lists of strings, such as a template's `lists: {installations: [site, …]}`.
        func stringListMap(_ key: String) -> [String: [String]]? {
            guard let value = values[key] else { return nil }
            guard case .mapping(let mapping) = value else {
                parser.error("'\(key)' in \(context) must be a mapping of names to lists of strings, found \(parser.kind(of: value))", at: value)
                return nil
            }
            var result: [String: [String]] = [:]
            for (name, item) in mapping {
                guard let name = name.scalar?.string else { continue }
                guard case .sequence(let sequence) = item else {
                    parser.error("'\(key).\(name)' in \(context) must be a list of strings, found \(parser.kind(of: item))", at: item)
                    continue
                }
                result[name] = sequence.compactMap { parser.scalarString($0, what: "a string in '\(key).\(name)'") }
            }
            return result
        }

        private func describe(_ node: Node) -> String {
            if case .scalar(let scalar) = node { return "'\(scalar.string)'" }
            return parser.kind(of: node)
        }
    }
}
