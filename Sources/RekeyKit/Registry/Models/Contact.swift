public struct Contact: Sendable, Hashable, Codable {
    public var role: String
    public var name: String?
    public var email: String
}
