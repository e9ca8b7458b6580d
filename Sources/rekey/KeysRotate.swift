import ArgumentParser
import RekeyKit

struct KeysRotate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate",
        abstract: "Add a new key and make it active. Older keys stay to open what they sealed; then run `keys rewrap`.")

    @OptionGroup var options: GlobalOptions
    @Flag(help: "Print the result as JSON.") var json = false

    func run() async throws {
        var ring = try options.loadKeyRing()
        let store = try options.openStore(logger: options.makeLogger())
        let version = ring.rotate()
        try ring.save(to: options.keys)
        try await store.recordKeyRotation(newVersion: version)
        if json { return try Console.json(KeysReport(activeVersion: version, keys: try await store.keyUsage(keyRing: ring))) }
        Console.out("key version \(version) is now active; run `rekey keys rewrap` to re-seal older values")
    }
}
