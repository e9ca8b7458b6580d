/// Where a customer's reconnect stands, per installation.
public enum ReconnectProgressState: String, Sendable, Codable, CaseIterable {
    /// A link was issued in a drafted message.
    case linkSent = "link_sent"
    /// The link's landing page was opened (by the customer, or by a mail scanner).
    case opened
    /// An authorization was started from the landing page.
    case started
    /// The installation moved onto OAuth and its password is gone.
    case migrated
    /// The last attempt failed at a step; the password is kept.
    case failed
}
