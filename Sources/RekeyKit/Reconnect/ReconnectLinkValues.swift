import Foundation

/// The template values of reconnect links. A drafted recipient stores each link's nonce and key version (never a
/// token); composing the message rebuilds the tokens under the key ring and fills `reconnect_link` (the first
/// installation's) and `other_reconnect_links` (the rest, each with `customer` and `link`).
enum ReconnectLinkValues {
    /// The stored list of `{nonce, version, customer}`.
    static let key = "rekey_links"
    /// The stored prefix of every link, `<public-url>/r/`.
    static let baseKey = "rekey_link_base"

    /// Fills the links with their real tokens; throws when the ring lacks a link's key version.
    static func fill(_ values: inout [String: Any], keyRing: KeyRing?) throws {
        guard let entries = values[key] as? [[String: Any]] else { return }
        try fill(&values, entries: entries) { nonce, version in
            guard let keyRing else { throw LinkKeyMissing(version: version) }
            guard let token = keyRing.linkToken(nonce: nonce, version: version) else { throw LinkKeyMissing(version: version) }
            return token
        }
    }

    /// Fills the links with a placeholder of a token's length, for validation and previews.
    static func fillPlaceholders(_ values: inout [String: Any]) {
        guard let entries = values[key] as? [[String: Any]] else { return }
        try? fill(&values, entries: entries) { _, _ in placeholder }
    }

    /// What a preview shows instead of a token (43 characters, as a token has).
    static let placeholder = "TOKEN-ONLY-IN-THE-SENT-MESSAGE-xxxxxxxxxxxx"

    /// Drops the rendered links, keeping what rebuilds them.
    static func removeRendered(_ values: inout [String: Any]) {
        values.removeValue(forKey: "reconnect_link")
        values.removeValue(forKey: "other_reconnect_links")
    }

    private static func fill(_ values: inout [String: Any], entries: [[String: Any]], token: (String, Int) throws -> String) throws {
        let base = values[baseKey] as? String ?? "/r/"
        var links: [[String: Any]] = []
        for entry in entries {
            guard let nonce = entry["nonce"] as? String, let version = entry["version"] as? Int else { continue }
            links.append(["customer": entry["customer"] as? String ?? "", "link": base + (try token(nonce, version))])
        }
        values["reconnect_link"] = links.first?["link"] ?? ""
        values["other_reconnect_links"] = Array(links.dropFirst())
    }
}

/// A drafted reconnect link's key version is gone from the key ring (pruned), so its message cannot be composed.
public struct LinkKeyMissing: Error, CustomStringConvertible, Sendable {
    /// The missing key version.
    public var version: Int
    /// Names the version and the fix.
    public var description: String {
        "the reconnect link was issued under key version \(version), which the key ring no longer holds; draft the campaign again"
    }
}
