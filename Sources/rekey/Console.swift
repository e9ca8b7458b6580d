import Foundation
import RekeyKit

/// Where the command line writes: results to stdout, diagnostics and progress to stderr.
/// Control and bidirectional characters from the data are written escaped (`\u001B`), never raw to a terminal.
enum Console {
    /// A line on stdout, flushed at once (another program may be waiting for it, such as an authorization URL).
    static func out(_ text: String) {
        FileHandle.standardOutput.write(Data((DisplaySafety.escaped(text) + "\n").utf8))
    }

    static func error(_ text: String) {
        FileHandle.standardError.write(Data((DisplaySafety.escaped(text) + "\n").utf8))
    }

    /// Prints a value as the `--json` output: snake_case keys, sorted, pretty.
    static func json<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        out(String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    static var stderrIsTerminal: Bool { isatty(STDERR_FILENO) == 1 }
}
