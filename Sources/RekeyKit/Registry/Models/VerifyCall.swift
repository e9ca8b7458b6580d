/// The one API call that proves new credentials work before the old ones are purged.
public struct VerifyCall: Sendable {
    /// `GET` (the default), `POST` or `HEAD`.
    public var method: String
    /// The URL, possibly starting with a config placeholder such as `{base_url}`.
    public var url: String
    /// The status code that proves the credentials work (`expect_status`, default 200); any other fails.
    public var expectStatus: Int
    /// The account that must have authorized (`expect_account`, such as `"{username}"`): the answer's `accountId`,
    /// `name`, `key` or `emailAddress` must equal it, or the tokens are refused and the password kept.
    public var expectAccount: String?

    /// A verify call; `expectAccount` unset accepts any account.
    public init(method: String, url: String, expectStatus: Int, expectAccount: String? = nil) {
        self.method = method
        self.url = url
        self.expectStatus = expectStatus
        self.expectAccount = expectAccount
    }
}
