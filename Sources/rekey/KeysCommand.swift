import ArgumentParser
import RekeyKit

struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Inspect and rotate the key ring that seals every stored secret.",
        subcommands: [Status.self, Rotate.self, Rewrap.self, Prune.self])
}
