/// Where a secret comes from: `env:NAME`, `file:PATH` or `store:NAME` (sealed in rekey's store).
public struct SecretReference: Sendable, Hashable, CustomStringConvertible {
    /// `env`: an environment variable; `file`: a file's contents; `store`: a value already sealed in the store.
    public enum Source: String, Sendable, CaseIterable { case env, file, store }
    /// Where to look.
    public let source: Source
    /// The variable name, file path or store name after the colon; never empty.
    public let name: String
    /// The reference as written, e.g. `env:REKEY_GITHUB_CLIENT_ID` (never the secret itself).
    public var description: String { "\(source.rawValue):\(name)" }

    /// Parses `SOURCE:NAME`; nil for an unknown source or an empty name.
    public init?(_ text: String) {
        guard let colon = text.firstIndex(of: ":"),
              let source = Source(rawValue: String(text[..<colon])),
              !text[text.index(after: colon)...].isEmpty
        else { return nil }
        self.source = source
        self.name = String(text[text.index(after: colon)...])
    }
}
