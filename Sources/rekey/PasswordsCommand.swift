import ArgumentParser

struct PasswordsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "passwords",
        abstract: "At the deadline: delete the stored passwords that customers did not replace by reconnecting.",
        subcommands: [Purge.self])
}
