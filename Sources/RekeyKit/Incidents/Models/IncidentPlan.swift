import Foundation

/// What an incident covers and whom it tells, in counts: the audit stage records it, `--dry-run` prints it.
/// It holds no customer's name or address: only counts, and partners' ids and names.
public struct IncidentPlan: Sendable, Codable {
    /// One integration's exposed installations.
    public struct IntegrationLine: Sendable, Codable {
        /// The integration's registry id.
        public var id: String
        /// Its display name.
        public var name: String
        /// The partner that owns it.
        public var partner: String
        /// Exposed installations.
        public var installations: Int
        /// Distinct customers with one.
        public var customers: Int
        /// Distinct contact addresses of those installations.
        public var contacts: Int
    }

    /// One partner to alert.
    public struct PartnerLine: Sendable, Codable {
        /// The partner's registry id.
        public var id: String
        /// Its display name.
        public var name: String
        /// A webhook when its endpoint subscribes to the event, else an email to its security contact.
        public var channel: AlertChannel
        /// Its integrations in the incident.
        public var integrations: [String]
        /// Exposed installations of those integrations.
        public var installations: Int
        /// Distinct customers with one.
        public var customers: Int
    }

    /// The integrations covered, in registry order.
    public var integrations: [IntegrationLine]
    /// The partners to alert, in registry order.
    public var partners: [PartnerLine]
    /// Exposed installations in all.
    public var installations: Int
    /// Distinct customers in all.
    public var customers: Int
    /// Distinct contacts in all: one email each.
    public var contacts: Int
    /// Partners alerted by webhook.
    public var webhooks: Int
    /// Partners alerted by email.
    public var partnerEmails: Int

    /// The figures the audit stage records.
    public var counts: [String: Int] {
        ["integrations": integrations.count, "installations": installations, "customers": customers, "contacts": contacts,
         "partners": partners.count, "webhooks": webhooks, "partner_emails": partnerEmails]
    }
}
