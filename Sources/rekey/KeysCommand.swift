import ArgumentParser
import RekeyKit

struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Inspect and rotate the key ring that seals every stored secret.",
        subcommands: [KeysStatus.self, KeysRotate.self, KeysRewrap.self, KeysPrune.self])
}
