import ArgumentParser
import RekeyKit

extension RegistryCommand {
    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "Validate the registry; every error is reported as file:line:column.")

        @OptionGroup var options: GlobalOptions
        @Flag(help: "Print the result as JSON.") var json = false

        struct Result: Encodable {
            var file: String
            var ok: Bool
            var partners: Int
            var integrations: Int
            var errors: [Diagnostic]
        }

        func run() async throws {
            do {
                let registry = try options.loadRegistry()
                if json {
                    return try Console.json(Result(file: options.registry, ok: true, partners: registry.partners.count,
                                                   integrations: registry.integrations.count, errors: []))
                }
                Console.out("\(options.registry): ok (\(registry.partners.count) partners, \(registry.integrations.count) integrations)")
            } catch let error as InputError where json {
                try Console.json(Result(file: options.registry, ok: false, partners: 0, integrations: 0, errors: error.diagnostics))
                throw ExitCode(2)
            }
        }
    }
}
