import ArgumentParser

struct ReconnectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reconnect",
        abstract: "Move installations off stored passwords onto OAuth, and follow the customers' reconnects.",
        discussion: """
            `rekey reconnect INSTALLATION` migrates one installation from this machine (the `run` subcommand).
            Customers reconnect themselves through the links `campaign draft --affected` issues and `rekey serve`
            answers; `rekey reconnect status` shows where each installation stands.
            """,
        subcommands: [Run.self, Status.self],
        defaultSubcommand: Run.self)
}
