/// One problem in an input file, at a line and column (both from 1), in the compiler's format.
public struct Diagnostic: Sendable, Hashable, Codable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int
    public var message: String

    public init(file: String, line: Int, column: Int, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String { "\(file):\(line):\(column): error: \(message)" }
}

/// An input file with one or more problems. Nothing was done with it.
public struct InputError: Error, CustomStringConvertible, Sendable {
    public var diagnostics: [Diagnostic]

    public init(_ diagnostics: [Diagnostic]) { self.diagnostics = diagnostics }

    public var description: String {
        let count = diagnostics.count
        return (diagnostics.map(\.description) + ["\(count) error\(count == 1 ? "" : "s")"]).joined(separator: "\n")
    }
}
