/// How the product stores an integration's credentials.
public enum CredentialStorage: String, Sendable, CaseIterable, Codable {
    case plaintext, encrypted, none
}
