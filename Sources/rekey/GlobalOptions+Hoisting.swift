import ArgumentParser

extension GlobalOptions {
    /// The global options that take a value (`--db PATH` or `--db=PATH`).
    static let names: Set<String> = ["--db", "--keys", "--registry", "--templates", "--log-level"]

    /// The arguments with any global options given before the subcommand (`rekey --db X oauth refresh …`) moved
    /// to just after the subcommand's name, where each command reads them.
    static func hoisted(_ arguments: [String], root: any ParsableCommand.Type) -> [String] {
        var globals: [String] = []
        var index = 0
        while index < arguments.count, let name = arguments[index].split(separator: "=").first.map(String.init), names.contains(name) {
            let width = arguments[index].contains("=") ? 1 : 2
            globals += arguments[index..<min(index + width, arguments.count)]
            index += width
        }
        guard !globals.isEmpty else { return arguments }
        var rest = Array(arguments[index...])
        var command = root
        var end = 0
        while end < rest.count, let sub = command.configuration.subcommands.first(where: { $0._commandName == rest[end] }) {
            command = sub
            end += 1
        }
        rest.insert(contentsOf: globals, at: end)
        return rest
    }
}
