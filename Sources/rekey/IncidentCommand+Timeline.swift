import ArgumentParser
import Foundation
import RekeyKit

extension IncidentCommand {
    struct Timeline: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "timeline",
            abstract: "The incident's timeline for the postmortem, from the audit log and the delivery records.",
            discussion: """
                Opened; each partner alerted and when its endpoint confirmed; the first and last partner; customers emailed \
                (first, last, how many, and those not delivered with why); installations migrated and credentials purged, per \
                hour; resolved. Every line is a UTC time and counts: no secret, and no customer beyond counts.
                """)

        @OptionGroup var options: GlobalOptions
        @Argument(help: "The incident id.") var id: Int64
        @Flag(help: "Print a Markdown table, for the postmortem document.") var markdown = false
        @Flag(help: "Print the result as JSON.") var json = false

        func validate() throws {
            guard !(markdown && json) else { throw ValidationError("give --markdown or --json, not both") }
        }

        func run() async throws {
            let ring = try options.loadKeyRing()
            let store = try options.openStore(logger: options.makeLogger(), keyRing: ring)
            let timeline = try await store.incidentTimeline(id)
            if json { return try Console.json(timeline) }
            Console.out(markdown ? timeline.markdown() : timeline.text())
        }
    }
}
