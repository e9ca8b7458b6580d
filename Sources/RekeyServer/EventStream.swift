import Foundation
import Hummingbird
import RekeyKit

/// `GET /events`: Server-Sent Events carrying the dashboard's live values (`event: dashboard`, one JSON
/// ``LiveUpdate`` per `timing.interval`) for `timing.streamLifetime`; the browser's `EventSource` then reconnects.
struct EventStream: ResponseGenerator {
    let source: DashboardSource
    let timing: DashboardTiming

    func response(from request: Request, context: some RequestContext) throws -> Response {
        let (source, timing) = (self.source, self.timing)
        return Response(
            status: .ok, headers: [.contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-store"],
            body: ResponseBody { writer in
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                let end = ContinuousClock.now + timing.streamLifetime
                try await writer.write(ByteBuffer(string: "retry: 2000\n\n"))
                while ContinuousClock.now < end {
                    let update = LiveUpdate(DashboardView(dashboard: try await source.current()))
                    let json = String(decoding: try encoder.encode(update), as: UTF8.self)
                    try await writer.write(ByteBuffer(string: "event: dashboard\ndata: \(json)\n\n"))
                    try await Task.sleep(for: min(timing.interval, end - ContinuousClock.now))
                }
                try await writer.finish(nil)
            })
    }
}
