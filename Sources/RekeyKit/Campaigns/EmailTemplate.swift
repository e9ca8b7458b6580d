import Foundation
import Mail
import Mustache
import Yams

/// An email template from `Templates/email/NAME/`: `template.yaml` (subject, sender, reply-to, the variables it
/// needs, and the item fields of the lists among them), `text.mustache` (rendered without escaping) and
/// `html.mustache` (HTML-escaped).
///
/// Every recipient also provides `email` and, when known, `contact_name`.
public struct EmailTemplate: Sendable {
    /// Variables every template may use without declaring them.
    public static let builtInVariables: Set<String> = ["email", "contact_name", "other_reconnect_links"]
    /// Lists rekey fills itself: a contact of several installations gets the first one's `reconnect_link`, and the
    /// others in `other_reconnect_links` (each with `customer` and `link`; empty for one installation).
    public static let builtInLists: [String: [String]] = ["other_reconnect_links": ["customer", "link"]]

    /// The folder's name, e.g. `credential-exposure`.
    public let name: String
    /// `description` from template.yaml; empty when absent.
    public let description: String
    /// The sender (`From:` and the envelope sender).
    public let from: MailAddress
    /// The `Reply-To:` address, when set.
    public let replyTo: MailAddress?
    /// The variables each recipient must have, non-blank, besides the built-in ones; in declaration order.
    public let variables: [String]
    /// `List-Unsubscribe` URIs such as `mailto:…` or `https://…`; none when empty.
    public let listUnsubscribe: [String]
    /// For each variable that is a list (`lists` in template.yaml), the fields its items have: inside
    /// `{{#installations}}…{{/installations}}` a template may use them as well as its declared variables.
    public let lists: [String: [String]]
    let subject: MustacheTemplate
    let text: MustacheTemplate
    let html: MustacheTemplate

    /// The rendered parts for one recipient.
    public struct Rendered: Sendable {
        /// The subject line.
        public var subject: String
        /// The plain-text body.
        public var text: String
        /// The HTML body, values HTML-escaped.
        public var html: String
    }

    /// Loads and checks a template: known keys, parseable Mustache, and no variable used that is not declared.
    public static func load(named name: String, from directory: String) throws(InputError) -> EmailTemplate {
        let folder = URL(fileURLWithPath: directory).appendingPathComponent("email").appendingPathComponent(name)
        let manifestPath = folder.appendingPathComponent("template.yaml").path
        guard FileManager.default.fileExists(atPath: manifestPath) else {
            let known = (try? FileManager.default.contentsOfDirectory(atPath: folder.deletingLastPathComponent().path))?.sorted() ?? []
            throw InputError([Diagnostic(file: manifestPath,
                                         message: "no email template '\(name)'; available: \(known.joined(separator: ", "))")])
        }
        var diagnostics: [Diagnostic] = []
        func fail(_ message: String, _ file: String, _ mark: Mark? = nil) {
            fail(message, file, line: mark?.line ?? 1, column: mark?.column ?? 1)
        }
        func fail(_ message: String, _ file: String, line: Int, column: Int) {
            diagnostics.append(Diagnostic(file: file, line: line, column: column, message: message))
        }

        let manifestText = (try? String(contentsOfFile: manifestPath, encoding: .utf8)) ?? ""
        let root = try RegistryParser.compose(manifestText, file: manifestPath, resolver: .default)
        let parser = RegistryParser(file: manifestPath)
        guard let root, let fields = parser.fields(root, context: "template", allowed: [
            "description", "from", "reply_to", "subject", "variables", "list_unsubscribe", "lists",
        ]) else {
            throw InputError(parser.diagnostics.isEmpty ? [Diagnostic(file: manifestPath, message: "expected a mapping")] : parser.diagnostics)
        }
        let fromText = fields.string("from", required: true)
        let replyToText = fields.string("reply_to")
        let subjectText = fields.string("subject", required: true)
        let variables = fields.stringList("variables", required: true) ?? []
        let unsubscribe = fields.stringList("list_unsubscribe") ?? []
        let description = fields.string("description") ?? ""
        let lists = fields.stringListMap("lists") ?? [:]
        diagnostics += parser.diagnostics
        for name in lists.keys.sorted() where !variables.contains(name) {
            fail("the list '\(name)' is not declared in 'variables'", manifestPath, fields["lists"]?.mark)
        }

        let from = fromText.flatMap(MailAddress.init(parsing:))
        if fromText != nil && from == nil { fail("'from' is not an address such as \"Name <addr@example.com>\"", manifestPath, fields["from"]?.mark) }
        let replyTo = replyToText.flatMap(MailAddress.init(parsing:))
        if replyToText != nil && replyTo == nil { fail("'reply_to' is not an address", manifestPath, fields["reply_to"]?.mark) }

        let textPath = folder.appendingPathComponent("text.mustache").path
        let htmlPath = folder.appendingPathComponent("html.mustache").path
        let declared = Set(variables).union(builtInVariables)
        func compile(_ source: String?, file: String, plainText: Bool, mark: Mark? = nil) -> MustacheTemplate? {
            guard let source else {
                fail("missing \(URL(fileURLWithPath: file).lastPathComponent)", file)
                return nil
            }
            for (variable, line, column, sections) in usedVariables(source) where !declared.contains(variable) {
                // Inside a list's section, its items' fields are variables too.
                if sections.contains(where: { (lists[$0] ?? Self.builtInLists[$0])?.contains(variable) == true }) { continue }
                let (l, c) = mark.map { ($0.line, $0.column) } ?? (line, column)
                fail("uses {{\(variable)}}, which template.yaml does not declare in 'variables'"
                     + (sections.isEmpty ? "" : " nor in 'lists'"), file, line: l, column: c)
            }
            do {
                HTMLContent.register()
                return try MustacheTemplate(string: "{{% CONTENT_TYPE: \(plainText ? "TEXT" : HTMLContent.name)}}" + source)
            } catch let error as MustacheTemplate.ParserError {
                fail("invalid Mustache: \(error.error)", file, line: error.context.lineNumber, column: error.context.columnNumber)
                return nil
            } catch {
                fail("invalid Mustache: \(error)", file)
                return nil
            }
        }
        let subject = compile(subjectText ?? "", file: manifestPath, plainText: true, mark: fields["subject"]?.mark)
        let text = compile(try? String(contentsOfFile: textPath, encoding: .utf8), file: textPath, plainText: true)
        let html = compile(try? String(contentsOfFile: htmlPath, encoding: .utf8), file: htmlPath, plainText: false)
        guard diagnostics.isEmpty, let from, let subject, let text, let html else { throw InputError(diagnostics) }
        return EmailTemplate(name: name, description: description, from: from, replyTo: replyTo, variables: variables,
                             listUnsubscribe: unsubscribe, lists: lists, subject: subject, text: text, html: html)
    }

    /// The variables a recipient lacks (missing or empty), in declaration order.
    public func missingVariables(in values: [String: Any]) -> [String] {
        variables.filter { name in
            switch values[name] {
            case nil: true
            case let string as String: string.trimmingCharacters(in: .whitespaces).isEmpty
            default: false
            }
        }
    }

    /// Renders the three parts. The subject is rendered as text and must stay on one line.
    public func render(_ values: [String: Any]) -> Rendered {
        let context = MustacheValues(values)
        return Rendered(subject: subject.render(context), text: text.render(context), html: html.render(context))
    }

    /// `{{name}}`, `{{{name}}}`, `{{&name}}`, `{{#name}}`, `{{^name}}` occurrences with their line and column, and the
    /// sections (`{{#list}}`, `{{^list}}`) they stand inside, outermost first.
    static func usedVariables(_ source: String) -> [(String, Int, Int, [String])] {
        var found: [(String, Int, Int, [String])] = []
        var sections: [String] = []
        var line = 1, column = 1
        let scalars = Array(source.unicodeScalars)
        var index = 0
        while index < scalars.count {
            if scalars[index] == "{", index + 1 < scalars.count, scalars[index + 1] == "{" {
                let (startLine, startColumn) = (line, column)
                var cursor = index + 2
                while cursor < scalars.count, "{&#^/ ".unicodeScalars.contains(scalars[cursor]) { cursor += 1 }
                let isComment = cursor < scalars.count && (scalars[cursor] == "!" || scalars[cursor] == "%" || scalars[cursor] == ">" || scalars[cursor] == "=")
                var name = ""
                while cursor < scalars.count, scalars[cursor] != "}", scalars[cursor] != " " {
                    name.unicodeScalars.append(scalars[cursor])
                    cursor += 1
                }
                let opener = scalars[index + 2]
                if !isComment, !name.isEmpty, name != ".", opener != "/" {
                    found.append((String(name.split(separator: ".").first ?? Substring(name)), startLine, startColumn, sections))
                }
                if !isComment, !name.isEmpty {
                    if opener == "#" || opener == "^" { sections.append(name) }
                    if opener == "/", let open = sections.lastIndex(of: name) { sections.removeSubrange(open...) }
                }
            }
            if scalars[index] == "\n" { line += 1; column = 1 } else { column += 1 }
            index += 1
        }
        return found
    }
}
