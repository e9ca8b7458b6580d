/// One problem in an input, in the compiler's format: at a line and column (both from 1) of a file when it has a
/// place there (`partners.yaml:7:12: error: …`), or naming only the input when it has none (`--data: error: …`).
public struct Diagnostic: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The file, or the input the problem is about (`--data`, `installation`).
    public var file: String
    /// nil when the problem has no place in the file (it cannot be read, it is empty, an id is unknown).
    public var line: Int?
    /// The column, from 1; nil exactly when `line` is.
    public var column: Int?
    /// What is wrong, for people; it never quotes a secret or a value refused as unsafe to print.
    public var message: String

    /// A problem at a place in the file.
    public init(file: String, line: Int, column: Int, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    /// A problem with the input as a whole, printed without a made-up place.
    public init(file: String, message: String) {
        self.file = file
        self.message = message
    }

    /// `FILE:LINE:COLUMN: error: MESSAGE`, or `FILE: error: MESSAGE` without a place.
    public var description: String {
        guard let line, let column else { return "\(file): error: \(message)" }
        return "\(file):\(line):\(column): error: \(message)"
    }
}

/// An input file with one or more problems. Nothing was done with it.
///
/// At most `maxListed` problems are kept and listed; the rest are only counted, so a file that is wrong on every
/// one of its rows neither floods the terminal nor holds every message in memory.
public struct InputError: RekeyError, Sendable {
    /// 2: bad input; nothing was changed or sent.
    public var exitCode: Int32 { 2 }

    /// How many diagnostics are kept and listed.
    public static let maxListed = 100

    /// The first `maxListed` problems, in the order found.
    public var diagnostics: [Diagnostic]
    /// Problems found beyond those listed.
    public var unlisted: Int

    /// Keeps the first `maxListed` of `diagnostics`; `total`, when more were found than passed, counts them all.
    public init(_ diagnostics: [Diagnostic], total: Int? = nil) {
        self.diagnostics = Array(diagnostics.prefix(Self.maxListed))
        unlisted = max(0, (total ?? diagnostics.count) - self.diagnostics.count)
    }

    /// One diagnostic a line, `… and N more` when some were not listed, then `N errors`.
    public var description: String {
        let count = diagnostics.count + unlisted
        let more = unlisted > 0 ? ["… and \(unlisted) more"] : []
        return (diagnostics.map(\.description) + more + ["\(count) error\(count == 1 ? "" : "s")"]).joined(separator: "\n")
    }
}

/// Collects diagnostics for one file, keeping the first `InputError.maxListed` and counting the rest.
struct DiagnosticList {
    let file: String
    private(set) var listed: [Diagnostic] = []
    private(set) var total = 0

    init(file: String) { self.file = file }

    var isEmpty: Bool { total == 0 }

    mutating func add(_ message: String, line: Int, column: Int) {
        append(Diagnostic(file: file, line: line, column: column, message: message))
    }

    mutating func append(_ diagnostic: Diagnostic) {
        total += 1
        if listed.count < InputError.maxListed { listed.append(diagnostic) }
    }

    var error: InputError { InputError(listed, total: total) }
}
