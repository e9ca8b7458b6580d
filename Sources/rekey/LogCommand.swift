import ArgumentParser
import RekeyKit

struct LogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "Read and check the audit log of what rekey did.",
        subcommands: [Verify.self, Show.self])
}
