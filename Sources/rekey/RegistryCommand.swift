import ArgumentParser
import RekeyKit

struct RegistryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "registry",
        abstract: "Work with the registry of partners and integrations (partners.yaml).",
        subcommands: [Check.self])
}
