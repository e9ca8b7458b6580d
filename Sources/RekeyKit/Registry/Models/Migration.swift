/// How an installation moves off its stored credential.
public struct Migration: Sendable {
    /// The protocol to move to, with its endpoints and client credentials.
    public var target: MigrationTarget
    /// The API call that must succeed with the new tokens before the stored credential is purged.
    public var verify: VerifyCall

    /// The OAuth 1.0a settings, when that is the target.
    public var oauth1: OAuth1Target? { if case .oauth1(let target) = target { target } else { nil } }
    /// The OAuth 2.0 settings, when that is the target.
    public var oauth2: OAuth2Target? { if case .oauth2(let target) = target { target } else { nil } }
}
