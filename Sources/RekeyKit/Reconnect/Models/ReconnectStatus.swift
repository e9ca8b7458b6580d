/// Where the customers' reconnects stand: per integration, and per installation.
public struct ReconnectStatus: Sendable, Codable {
    /// One integration's counts by state.
    public struct Line: Sendable, Codable {
        /// The integration's id.
        public var integration: String
        /// Its installations.
        public var installations: Int
        /// Installations by reconnect state (`not_contacted`, `link_sent`, `opened`, `started`, `migrated`, `failed`).
        public var states: [String: Int]
        /// Landing page views of its links.
        public var linkOpens: Int
    }

    /// One installation's state.
    public struct Entry: Sendable, Codable {
        /// The installation's id.
        public var installation: String
        /// Its customer.
        public var customer: String
        /// Its integration.
        public var integration: String
        /// `not_contacted`, or a `ReconnectProgressState`.
        public var state: String
        /// The step its last attempt failed at.
        public var failedStep: String?
        /// The account that authorized, once migrated through a reconnect.
        public var account: String?
        /// When the state last changed.
        public var updatedAt: String?
    }

    /// Per integration.
    public var integrations: [Line]
    /// Per installation, by integration then customer.
    public var installations: [Entry]
}
