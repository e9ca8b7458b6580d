import OpenSSLCrypto

/// Where a sealed value lives: its table, column and row. A value sealed for one place does not open in another.
public struct SecretBinding: Sendable, Hashable, CustomStringConvertible {
    public let table: String
    public let column: String
    public let row: String

    public init(table: String, column: String, row: String) {
        self.table = table
        self.column = column
        self.row = row
    }

    public var description: String { "\(table).\(column) row \(row)" }

    /// Eight hex digits naming this place, written in the clear so a misplaced value is reported as such.
    var tag: String {
        Digest.hex(Digest.sha256(Array("\(table)\u{0}\(column)\u{0}\(row)".utf8)).prefix(4))
    }
}
