import Hummingbird

/// The public listener's request context: it knows the connection's peer address, for rate limiting.
public struct PublicRequestContext: RequestContext {
    /// Hummingbird's per-request storage.
    public var coreContext: CoreRequestContextStorage
    /// The connection's peer IP address.
    public let peerAddress: String?

    /// A context for one request on `source`'s channel.
    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        peerAddress = source.channel.remoteAddress?.ipAddress
    }
}
