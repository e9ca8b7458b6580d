/// The one API call that proves new credentials work before the old ones are purged.
public struct VerifyCall: Sendable {
    /// `GET` (the default), `POST` or `HEAD`.
    public var method: String
    /// The URL, possibly starting with a config placeholder such as `{base_url}`.
    public var url: String
    /// The status code that proves the credentials work (`expect_status`, default 200); any other fails.
    public var expectStatus: Int
}
