import OpenSSLCrypto

/// Where a sealed value lives: its table, column and row. A value sealed for one place does not open in another.
public struct SecretBinding: Sendable, Hashable, CustomStringConvertible {
    /// The store table, e.g. `installation_secret`.
    public let table: String
    /// The column that holds the sealed text, e.g. `sealed`.
    public let column: String
    /// The row's key, e.g. `<installation id>/<field>` or `<partner>/<version>`.
    public let row: String

    /// Names a place; the three parts are authenticated with the value sealed for it.
    public init(table: String, column: String, row: String) {
        self.table = table
        self.column = column
        self.row = row
    }

    /// `TABLE.COLUMN row ROW`, for messages.
    public var description: String { "\(table).\(column) row \(row)" }

    /// Eight hex digits naming this place, written in the clear so a misplaced value is reported as such.
    var tag: String {
        Digest.hex(Digest.sha256(Array("\(table)\u{0}\(column)\u{0}\(row)".utf8)).prefix(4))
    }
}
