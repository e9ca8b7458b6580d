import Foundation
import Mustache
import RekeyKit

/// The service's pages and their assets, from `Templates/pages/` (so an operator can rebrand them), read once at start.
public struct Pages: Sendable {
    /// The dashboard's HTML template.
    let dashboard: MustacheTemplate
    /// The landing page of a reconnect link.
    let reconnectLanding: MustacheTemplate
    /// Every page that ends a customer's reconnect step (success, failures, refusals).
    let reconnectOutcome: MustacheTemplate
    /// Files served under `/assets/`: name → (content type, bytes).
    let assets: [String: (contentType: String, body: String)]

    /// Reads and compiles `pages/dashboard.html.mustache`, `reconnect-landing.html.mustache` and
    /// `reconnect-outcome.html.mustache`, and reads `rekey.css`, `dashboard.js` and `favicon.svg` beside them.
    /// - Throws: ``PagesError`` naming the file that is missing or does not compile.
    public static func load(from templates: String) throws -> Pages {
        let folder = URL(fileURLWithPath: templates).appendingPathComponent("pages")
        func read(_ name: String) throws -> String {
            let path = folder.appendingPathComponent(name).path
            do {
                return try String(contentsOfFile: path, encoding: .utf8)
            } catch {
                throw PagesError(file: path, problem: "cannot be read (\((error as NSError).localizedDescription))")
            }
        }
        func compile(_ name: String) throws -> MustacheTemplate {
            let source = try read(name)
            do {
                return try MustacheTemplate(string: source)
            } catch {
                throw PagesError(file: folder.appendingPathComponent(name).path, problem: "is not valid Mustache: \(error)")
            }
        }
        return Pages(dashboard: try compile("dashboard.html.mustache"), reconnectLanding: try compile("reconnect-landing.html.mustache"),
                     reconnectOutcome: try compile("reconnect-outcome.html.mustache"), assets: [
            "rekey.css": ("text/css; charset=utf-8", try read("rekey.css")),
            "dashboard.js": ("text/javascript; charset=utf-8", try read("dashboard.js")),
            "favicon.svg": ("image/svg+xml", try read("favicon.svg")),
        ])
    }
}

/// A page template or asset that cannot be used; the service does not start.
public struct PagesError: RekeyError {
    /// 2: the templates folder is wrong (`--templates`, `REKEY_TEMPLATES`).
    public var exitCode: Int32 { 2 }
    /// The file's path.
    public var file: String
    /// What is wrong with it.
    public var problem: String
    /// `<file> <problem>`, and where templates are looked for.
    public var description: String { "\(file) \(problem); pages are read from the templates folder (--templates, REKEY_TEMPLATES)" }
}
