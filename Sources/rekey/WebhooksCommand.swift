import ArgumentParser

struct WebhooksCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhooks",
        abstract: "Signed partner webhooks (Standard Webhooks): send, track, replay, rotate secrets.",
        subcommands: [Send.self, Status.self, Replay.self, RotateSecret.self, Enable.self])
}
