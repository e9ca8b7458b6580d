import ArgumentParser

struct LinksCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "links",
        abstract: "List and revoke the customers' reconnect links (their tokens are never shown: they exist only in the emails).",
        subcommands: [List.self, Revoke.self])
}
