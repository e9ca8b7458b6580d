/// The registry (`partners.yaml`): every partner, every integration, how each authenticates,
/// how it stores credentials, and where it can migrate to.
public struct Registry: Sendable {
    /// Every partner, in file order; ids are unique.
    public var partners: [Partner]
    /// Every integration, in file order; ids are unique and each names a partner above.
    public var integrations: [Integration]

    /// The partner with this id, or nil.
    public func partner(_ id: String) -> Partner? { partners.first { $0.id == id } }
    /// The integration with this id, or nil.
    public func integration(_ id: String) -> Integration? { integrations.first { $0.id == id } }
}
