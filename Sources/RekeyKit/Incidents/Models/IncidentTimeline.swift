import Foundation

/// An incident's postmortem timeline, built from the audit log and the delivery records: every line a UTC time,
/// what happened and its counts. It names partners, never a customer, a contact or a secret.
public struct IncidentTimeline: Sendable, Codable {
    /// What a line records.
    public enum Kind: String, Sendable, Codable, CaseIterable {
        /// The incident was opened (with the audit's counts).
        case opened
        /// The first partner was alerted.
        case firstPartnerAlerted = "first_partner_alerted"
        /// One partner was alerted (its first webhook attempt, or its email accepted).
        case partnerAlerted = "partner_alerted"
        /// A partner's endpoint confirmed the alert (answered 2xx: the message's `delivered_at`).
        case partnerConfirmed = "partner_confirmed"
        /// A partner's alert failed for good.
        case partnerAlertFailed = "partner_alert_failed"
        /// The last partner was alerted.
        case lastPartnerAlerted = "last_partner_alerted"
        /// The first customer email was accepted.
        case firstCustomerEmailed = "first_customer_emailed"
        /// The last customer email was accepted, with how many were.
        case lastCustomerEmailed = "last_customer_emailed"
        /// Customer emails that were not delivered, grouped by why.
        case customersNotEmailed = "customers_not_emailed"
        /// Reconnect links opened for the first time in one hour (customers, or their mail scanners).
        case linksOpened = "links_opened"
        /// Installations migrated to OAuth in one hour.
        case installationsMigrated = "installations_migrated"
        /// Stored passwords (and tokens) purged in one hour.
        case passwordsPurged = "passwords_purged"
        /// The incident was resolved.
        case resolved
    }

    /// One line.
    public struct Event: Sendable, Codable {
        /// When (`AppDatabase.timestamp`, UTC).
        public var at: String
        /// What.
        public var kind: Kind
        /// The line for people: counts and partner ids, nothing else.
        public var summary: String
        /// The partner it is about, for partner lines.
        public var partner: String?
        /// Its figures.
        public var counts: [String: Int]
    }

    /// The incident.
    public var incident: Incident
    /// The lines, oldest first.
    public var events: [Event]
}
