import ArgumentParser

struct WebhooksCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhooks",
        abstract: "Signed partner webhooks (Standard Webhooks): send, track, replay, rotate secrets.",
        subcommands: [WebhooksSend.self, WebhooksStatus.self, WebhooksReplay.self, WebhooksRotateSecret.self, WebhooksEnable.self])
}
