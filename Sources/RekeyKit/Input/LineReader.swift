import Foundation

/// Reads a file line by line in fixed-size chunks, so memory stays flat whatever the file's size.
/// Lines come without their `\n` (and without a trailing `\r`), numbered from 1.
final class LineReader {
    private let handle: FileHandle
    private var buffer = Data()
    private var atEnd = false
    private(set) var lineNumber = 0

    init(path: String) throws {
        handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
    }

    deinit { try? handle.close() }

    func next() -> String? {
        guard var line = nextBytes() else { return nil }
        if line.last == 13 { line.removeLast() }
        return String(decoding: line, as: UTF8.self)
    }

    /// The next line's bytes as they are in the file (a trailing `\r` included), or nil at the end.
    func nextBytes() -> [UInt8]? {
        while true {
            if let newline = buffer.firstIndex(of: 10) {
                let line = [UInt8](buffer[buffer.startIndex..<newline])
                buffer = buffer[buffer.index(after: newline)...]
                lineNumber += 1
                return line
            }
            if atEnd {
                guard !buffer.isEmpty else { return nil }
                defer { buffer = Data() }
                lineNumber += 1
                return [UInt8](buffer)
            }
            let chunk = (try? handle.read(upToCount: 1 << 16)) ?? nil
            if let chunk, !chunk.isEmpty {
                buffer = buffer.isEmpty ? chunk : buffer + chunk
            } else {
                atEnd = true
            }
        }
    }
}
