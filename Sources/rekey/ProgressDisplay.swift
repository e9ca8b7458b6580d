import Foundation
import RekeyKit

/// Progress on stderr: a bar redrawn in place on a terminal, plain periodic lines otherwise.
final class ProgressDisplay: @unchecked Sendable {
    private let terminal = Console.stderrIsTerminal
    private let interval: Double
    private let lock = NSLock()
    private var lastDraw = Date.distantPast
    private var drewBar = false

    init(interval: Double) { self.interval = interval }

    func update(_ p: SendProgress) {
        lock.lock()
        defer { lock.unlock() }
        let now = Date()
        guard now.timeIntervalSince(lastDraw) >= (terminal ? 0.1 : interval) else { return }
        lastDraw = now
        let remaining = max(0, p.total - p.done)
        let eta = p.rate > 0 ? String(format: "%.0fs", Double(remaining) / p.rate) : "-"
        let counts = "sent \(p.sent)/\(p.total)  failed \(p.failed)  deferred \(p.deferred)  unknown \(p.unknown)  "
            + String(format: "%.0f msg/s", p.rate) + "  ETA \(eta)"
        if terminal {
            let width = 24
            let filled = p.total > 0 ? min(width, p.done * width / p.total) : 0
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            FileHandle.standardError.write(Data("\r[\(bar)] \(counts)\u{1B}[K".utf8))
            drewBar = true
        } else {
            Console.error("progress: \(counts)")
        }
    }

    func finish() {
        lock.lock()
        defer { lock.unlock() }
        if drewBar { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
