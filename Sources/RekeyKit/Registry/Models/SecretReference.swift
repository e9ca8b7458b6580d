/// Where a secret comes from: `env:NAME`, `file:PATH` or `store:NAME` (sealed in rekey's store).
public struct SecretReference: Sendable, Hashable, CustomStringConvertible {
    public enum Source: String, Sendable, CaseIterable { case env, file, store }
    public let source: Source
    public let name: String
    public var description: String { "\(source.rawValue):\(name)" }

    public init?(_ text: String) {
        guard let colon = text.firstIndex(of: ":"),
              let source = Source(rawValue: String(text[..<colon])),
              !text[text.index(after: colon)...].isEmpty
        else { return nil }
        self.source = source
        self.name = String(text[text.index(after: colon)...])
    }
}
