/// How the product stores an integration's credentials.
public enum CredentialStorage: String, Sendable, CaseIterable, Codable {
    /// `plaintext`: readable by whoever holds a copy (a backup); `encrypted`: encrypted at rest; `none`: not stored.
    case plaintext, encrypted, none
}
