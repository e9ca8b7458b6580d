/// What a customer's browser is shown after a step of the web reconnect.
public enum WebOutcome: Sendable, Equatable {
    /// The installation moved onto OAuth; the password is gone.
    case migrated(customer: String, integration: String)
    /// It had been migrated already; nothing was done.
    case alreadyMigrated
    /// The link is unknown, expired or revoked (one page for all three).
    case linkInvalid
    /// The provider said the customer declined (`error=access_denied`, or no verifier).
    case denied
    /// A step failed; the password is kept.
    case failed(step: ReconnectStep)
    /// The callback's state was missing, forged, reused, expired, or from another browser.
    case refused
    /// The landing page's form came without the browser's cookie (a scanner, or cookies off).
    case startRefused

    /// The page's `data-outcome` value and the template's section name.
    public var name: String {
        switch self {
        case .migrated: "migrated"
        case .alreadyMigrated: "already-migrated"
        case .linkInvalid: "link-invalid"
        case .denied: "denied"
        case .failed(let step): step == .verify || step == .selectSite ? "verify-failed" : "error"
        case .refused: "refused"
        case .startRefused: "start-refused"
        }
    }
}

/// What pressing Reconnect on a landing page leads to.
public enum WebStart: Sendable, Equatable {
    /// Send the browser to the provider's authorization page.
    case redirect(String)
    /// Show this page instead.
    case page(WebOutcome)
}
