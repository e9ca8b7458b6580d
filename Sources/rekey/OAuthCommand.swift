import ArgumentParser

struct OAuthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "oauth", abstract: "Keep migrated installations' OAuth tokens fresh, or revoke them.",
        subcommands: [Refresh.self, Revoke.self])
}
