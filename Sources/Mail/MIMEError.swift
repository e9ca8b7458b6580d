/// A message that cannot be composed safely. Nothing is sent for it.
public struct MIMEError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Problem: Sendable, Equatable {
        /// A CR or LF (or NUL) inside a header value: a header-injection attempt.
        case lineBreakInHeader
        /// An address that cannot go on the wire.
        case invalidAddress(String)
        /// No body at all.
        case emptyBody
        /// A word (an address, a URI) too long for any folding to keep its line within 998 octets.
        case unfoldableWord(octets: Int)
    }

    /// The header or part at fault, such as `Subject` or `To`.
    public let field: String
    public let problem: Problem

    public init(field: String, problem: Problem) {
        self.field = field
        self.problem = problem
    }

    public var description: String {
        switch problem {
        case .lineBreakInHeader: "\(field) contains a line break (CR or LF): refusing a header injection"
        case .invalidAddress(let address): "\(field) has an invalid address '\(address)'"
        case .emptyBody: "the message has neither a text nor an HTML part"
        case .unfoldableWord(let octets):
            "\(field) holds a \(octets)-octet word with no place to fold it; a header line may be at most 998 octets (RFC 5322)"
        }
    }
}
