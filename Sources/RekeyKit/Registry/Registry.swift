/// The registry (`partners.yaml`): every partner, every integration, how each authenticates,
/// how it stores credentials, and where it can migrate to.
public struct Registry: Sendable {
    public var partners: [Partner]
    public var integrations: [Integration]

    public func partner(_ id: String) -> Partner? { partners.first { $0.id == id } }
    public func integration(_ id: String) -> Integration? { integrations.first { $0.id == id } }
}
