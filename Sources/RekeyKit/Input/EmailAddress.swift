/// A practical check of an email address (RFC 5321 mailbox, no display name, no comments):
/// one `@`, a non-empty local part of printable ASCII, and a domain of dot-separated ASCII labels.
///
/// The one rule for every address rekey takes in (the registry, imported contacts, campaign audiences): the mail
/// path sends without SMTPUTF8, and a look-alike such as a Cyrillic `а` in `аcme.example` is not the domain it
/// appears to be. An internationalised domain is written in its ASCII form (`xn--…`).
public enum EmailAddress {
    private static let localAllowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~.".utf8)
    private static let labelAllowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-".utf8)

    /// Whether rekey accepts `address`: at most 254 bytes, a local part of at most 64, at least two domain labels of
    /// at most 63 letters, digits and inner hyphens.
    public static func isValid(_ address: String) -> Bool {
        guard address.utf8.count <= 254, let at = address.lastIndex(of: "@") else { return false }
        let local = address[..<at]
        let domain = address[address.index(after: at)...]
        guard !local.isEmpty, local.utf8.count <= 64, !domain.isEmpty else { return false }
        guard local.utf8.allSatisfy(localAllowed.contains), !local.hasPrefix("."), !local.hasSuffix("."),
              !local.contains("..") else { return false }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2 else { return false }
        return labels.allSatisfy { label in
            !label.isEmpty && label.utf8.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.utf8.allSatisfy(labelAllowed.contains)
        }
    }
}
