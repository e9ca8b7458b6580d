import Foundation
import RekeyKit

/// Progress on stderr: a bar redrawn in place on a terminal, plain periodic lines otherwise.
final class ProgressDisplay: @unchecked Sendable {
    /// What one line shows; `counts` is built only when the line is drawn.
    private struct Frame {
        var done: Int
        var total: Int
        var rate: Double
        var unit: String
        var counts: () -> String
    }

    private let terminal = Console.stderrIsTerminal
    private let interval: Double
    private let lock = NSLock()
    // Guarded by `lock`.
    private var lastDraw = Date.distantPast
    private var drewBar = false
    private var undrawn: Frame?  // the latest update, not drawn because it came too soon

    init(interval: Double) { self.interval = interval }

    func update(_ p: SendProgress) {
        update(Frame(done: p.done, total: p.total, rate: p.rate, unit: "msg/s") {
            "sent \(p.sent)/\(p.total)  failed \(p.failed)  deferred \(p.deferred)  unknown \(p.unknown)"
        })
    }

    /// One webhook run's progress against the messages this command queued (the run also takes other due
    /// work, such as retries, so the total grows to what it attempted).
    func update(_ p: WebhookRunSummary, total queued: Int) {
        let total = max(queued, p.attempted)
        update(Frame(done: p.attempted, total: total, rate: p.rate, unit: "deliveries/s") {
            "delivered \(p.delivered)/\(total)  retrying \(p.retrying)  failed \(p.failed)"
        })
    }

    private func update(_ frame: Frame, force: Bool = false) {
        lock.lock()
        defer { lock.unlock() }
        let now = Date()
        guard force || now.timeIntervalSince(lastDraw) >= (terminal ? 0.1 : interval) else {
            undrawn = frame
            return
        }
        undrawn = nil
        lastDraw = now
        let remaining = max(0, frame.total - frame.done)
        let eta = frame.rate > 0 ? String(format: "%.0fs", Double(remaining) / frame.rate) : "-"
        let line = frame.counts() + "  " + String(format: "%.0f ", frame.rate) + frame.unit + "  ETA \(eta)"
        if terminal {
            let width = 24
            let filled = frame.total > 0 ? min(width, frame.done * width / frame.total) : 0
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            FileHandle.standardError.write(Data("\r[\(bar)] \(line)\u{1B}[K".utf8))
            drewBar = true
        } else {
            Console.error("progress: \(line)")
        }
    }

    /// Draws the final state on a terminal (the last update may have come too soon after the one before).
    func finish() {
        if terminal, let last = lock.withLock({ undrawn }) { update(last, force: true) }
        lock.lock()
        defer { lock.unlock() }
        if drewBar { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
