import Foundation

/// What `incident open` was asked for. Nil and empty values take the defaults, or, when an open incident of the same
/// title is resumed, what it was opened with; a value given that differs from it is refused.
public struct IncidentRequest: Sendable {
    /// The customers' template when none is given.
    public static let defaultEmailTemplate = "incident-notice"
    /// The partners' email template when none is given.
    public static let defaultPartnerTemplate = "partner-security-notice"
    /// The event that alerts partners when none is given.
    public static let defaultEvent = "credentials.exposed"

    /// The incident's title: an open incident with this title is resumed.
    public var title: String
    /// `--integration`: these integrations; empty means every integration with exposed installations.
    public var integrations: [String] = []
    /// `--email-template`.
    public var emailTemplate: String?
    /// `--partner-template`.
    public var partnerTemplate: String?
    /// `--event`.
    public var event: String?
    /// `--var K=V`: variables for every email.
    public var variables: [String: String] = [:]

    /// A request with this title and everything else by default.
    public init(title: String) { self.title = title }
}
