import Foundation
import Mustache

/// A webhook payload template, `Templates/webhooks/<event>.json.mustache`. `{{name}}` is escaped for a JSON
/// string; `{{{name}}}` inserts raw JSON (such as `data_json`). The rendered payload must be valid JSON.
public struct WebhookTemplate: Sendable {
    public let event: String
    let path: String
    let template: MustacheTemplate

    public static func load(event: String, from directory: String) throws(InputError) -> WebhookTemplate {
        let path = URL(fileURLWithPath: directory).appendingPathComponent("webhooks/\(event).json.mustache").path
        guard let source = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw InputError([Diagnostic(file: path, line: 1, column: 1, message: "no payload template for event '\(event)'")])
        }
        MustacheContentTypes.register(JSONStringContent(), named: "JSON")
        do {
            return WebhookTemplate(event: event, path: path, template: try MustacheTemplate(string: "{{% CONTENT_TYPE: JSON}}" + source))
        } catch let error as MustacheTemplate.ParserError {
            throw InputError([Diagnostic(file: path, line: error.context.lineNumber, column: error.context.columnNumber,
                                         message: "invalid Mustache: \(error.error)")])
        } catch {
            throw InputError([Diagnostic(file: path, line: 1, column: 1, message: "invalid Mustache: \(error)")])
        }
    }

    /// Renders the payload and checks that it is JSON; returns the exact bytes that will be signed and sent.
    public func render(_ values: [String: Any]) throws(InputError) -> [UInt8] {
        let body = Array(template.render(values).utf8)
        guard (try? JSONSerialization.jsonObject(with: Data(body))) != nil else {
            throw InputError([Diagnostic(file: path, line: 1, column: 1, message: "the rendered payload for '\(event)' is not valid JSON")])
        }
        return body
    }
}

/// Escapes text for the inside of a JSON string.
struct JSONStringContent: MustacheContentType {
    func escapeText(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
