import Foundation
import Mustache

/// A webhook payload template, `Templates/webhooks/<event>.json.mustache`. `{{name}}` is escaped for a JSON
/// string; `{{{name}}}` inserts raw JSON (such as `data_json`). The rendered payload must be valid JSON.
public struct WebhookTemplate: Sendable {
    /// The event type, e.g. `credentials.exposed`; also the template's file name.
    public let event: String
    let path: String
    let template: MustacheTemplate

    /// Reads and parses `<directory>/webhooks/<event>.json.mustache`; throws `InputError` when it is missing or
    /// not valid Mustache.
    public static func load(event: String, from directory: String) throws(InputError) -> WebhookTemplate {
        let path = URL(fileURLWithPath: directory).appendingPathComponent("webhooks/\(event).json.mustache").path
        guard let source = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw InputError([Diagnostic(file: path, message: "no payload template for event '\(event)'")])
        }
        MustacheContentTypes.register(JSONStringContent(), named: "JSON")
        do {
            return WebhookTemplate(event: event, path: path, template: try MustacheTemplate(string: "{{% CONTENT_TYPE: JSON}}" + source))
        } catch let error as MustacheTemplate.ParserError {
            throw InputError([Diagnostic(file: path, line: error.context.lineNumber, column: error.context.columnNumber,
                                         message: "invalid Mustache: \(error.error)")])
        } catch {
            throw InputError([Diagnostic(file: path, message: "invalid Mustache: \(error)")])
        }
    }

    /// Renders the payload and checks that it is JSON; returns the exact bytes that will be signed and sent.
    public func render(_ values: [String: Any]) throws(InputError) -> [UInt8] {
        let body = Array(template.render(MustacheValues(values)).utf8)
        guard (try? JSONSerialization.jsonObject(with: Data(body))) != nil else {
            throw InputError([Diagnostic(file: path, message: "the rendered payload for '\(event)' is not valid JSON")])
        }
        return body
    }
}

extension WebhookTemplate {
    /// One payload per partner, rendered in parallel chunks: the `data` object's fields, `data_json` (the whole
    /// object), `incident_id`, `timestamp`, `partner_id`, `partner_name` and `integrations_json` (the partner's
    /// integration ids). Every problem is collected; `data` must be a JSON object (checked by the caller).
    public func renderPayloads(for partners: [Partner], registry: Registry, data: String, timestamp: String) async
        -> (bodies: [(partner: String, body: [UInt8])], problems: [Diagnostic]) {
        let integrations = Dictionary(grouping: registry.integrations, by: \.partner).mapValues { $0.map(\.id) }
        let chunkSize = max(256, partners.count / (ProcessInfo.processInfo.activeProcessorCount * 2) + 1)
        let chunks = stride(from: 0, to: partners.count, by: chunkSize).map { partners[$0..<min($0 + chunkSize, partners.count)] }
        let rendered = await withTaskGroup(of: (Int, [(String, [UInt8])], [Diagnostic]).self) { group in
            for (index, chunk) in chunks.enumerated() {
                group.addTask {
                    let object = (try? JSONSerialization.jsonObject(with: Data(data.utf8))) as? [String: Any] ?? [:]
                    let common = Self.commonValues(data: object, timestamp: timestamp)
                    var bodies: [(String, [UInt8])] = []
                    var problems: [Diagnostic] = []
                    bodies.reserveCapacity(chunk.count)
                    for partner in chunk {
                        do throws(InputError) {
                            bodies.append((partner.id, try render(for: partner, common: common, integrations: integrations[partner.id, default: []])))
                        } catch { problems += error.diagnostics }
                    }
                    return (index, bodies, problems)
                }
            }
            var results: [(Int, [(String, [UInt8])], [Diagnostic])] = []
            for await result in group { results.append(result) }
            return results.sorted { $0.0 < $1.0 }
        }
        return (rendered.flatMap { $0.1 }.map { (partner: $0.0, body: $0.1) }, rendered.flatMap { $0.2 })
    }
}

extension WebhookTemplate {
    /// The variables every partner's payload shares: the `data` object's fields, `data_json` (the whole object),
    /// `incident_id` and `timestamp`.
    static func commonValues(data object: [String: Any], timestamp: String) -> [String: Any] {
        var common = object
        common["timestamp"] = timestamp
        common["incident_id"] = object["incident_id"] as? String ?? ""
        common["data_json"] = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
            .map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return common
    }

    /// One partner's payload: `common` (see `commonValues`) with `partner_id`, `partner_name` and `integrations_json`.
    func render(for partner: Partner, common: [String: Any], integrations: [String]) throws(InputError) -> [UInt8] {
        var values = common
        values["partner_id"] = partner.id
        values["partner_name"] = partner.name
        values["integrations_json"] = JSONStringContent.array(integrations)
        return try render(values)
    }
}

/// Escapes text for the inside of a JSON string.
struct JSONStringContent: MustacheContentType {
    func escapeText(_ text: String) -> String {
        text.replacingBytes(Self.escapes)
    }

    /// Quote, backslash, newline, CR and tab by their short escapes; other control characters as `\u00XX`.
    private static let escapes: ByteReplacements = {
        var escapes = ByteReplacements(["\"": "\\\"", "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"])
        for byte in UInt8(0)..<0x20 where escapes[byte] == nil {
            escapes[byte] = "\\u00" + (byte < 0x10 ? "0" : "") + String(byte, radix: 16)
        }
        return escapes
    }()

    /// A JSON array of these strings.
    static func array(_ strings: [String]) -> String {
        "[" + strings.map { "\"" + JSONStringContent().escapeText($0) + "\"" }.joined(separator: ",") + "]"
    }
}
