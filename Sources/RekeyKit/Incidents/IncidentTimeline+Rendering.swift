import Foundation

extension IncidentTimeline {
    /// The timeline as plain lines: a header, then `TIME  KIND  SUMMARY` per event.
    public func text() -> String {
        let width = events.map(\.kind.rawValue.count).max() ?? 0
        let lines = events.map { "\($0.at)  \($0.kind.rawValue.padding(toLength: width, withPad: " ", startingAt: 0))  \($0.summary)" }
        return (["Timeline of incident \(incident.id) \"\(incident.title)\" (\(incident.reference)), times in UTC"] + lines).joined(separator: "\n")
    }

    /// The timeline as a Markdown section for a postmortem: a heading and a table of time, event and what happened.
    public func markdown() -> String {
        func cell(_ text: String) -> String {
            text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "|", with: "\\|")
                .replacingOccurrences(of: "\n", with: " ")
        }
        var lines = [
            "## Timeline: \(cell(incident.title)) (\(incident.reference))", "",
            "All times UTC.", "",
            "| Time (UTC) | Event | What happened |",
            "|---|---|---|",
        ]
        for event in events {
            lines.append("| \(event.at) | \(event.kind.rawValue.replacingOccurrences(of: "_", with: " ")) | \(cell(event.summary)) |")
        }
        return lines.joined(separator: "\n")
    }
}
