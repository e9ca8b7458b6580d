import Foundation
import RekeyKit

/// Shows an incident's stages on stderr, one line each, and a progress display (a bar on a terminal, periodic lines
/// otherwise) while it delivers.
final class ConsoleIncidentObserver: IncidentObserver, @unchecked Sendable {
    private let progress: ProgressOptions
    private let lock = NSLock()
    private var display: ProgressDisplay?  // guarded by `lock`: the delivery under way

    init(progress: ProgressOptions) { self.progress = progress }

    func stage(_ stage: IncidentStage, _ message: String) {
        Console.error("\(stage.rawValue): \(message)")
    }

    func webhooks(_ summary: WebhookRunSummary, total: Int) { current().update(summary, total: total) }

    func emails(_ progress: SendProgress) { current().update(progress) }

    func deliveryFinished() {
        lock.withLock { () -> ProgressDisplay? in
            defer { display = nil }
            return display
        }?.finish()
    }

    private func current() -> ProgressDisplay {
        lock.withLock {
            if let display { return display }
            let made = progress.makeDisplay()
            display = made
            return made
        }
    }
}
