/// The one API call that proves new credentials work before the old ones are purged.
public struct VerifyCall: Sendable {
    public var method: String
    public var url: String
    public var expectStatus: Int
}
