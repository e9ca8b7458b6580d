import ArgumentParser
import RekeyKit

struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Inspect and rotate the key ring that seals every stored secret.",
        subcommands: [KeysStatus.self, KeysRotate.self, KeysRewrap.self])
}

struct KeysStatus: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Count sealed values per key version.")

    @OptionGroup var options: GlobalOptions
    @Flag(help: "Print the result as JSON.") var json = false

    func run() async throws {
        let ring = try options.loadKeyRing()
        let store = try options.openStore(logger: options.makeLogger())
        let usage = try await store.keyUsage(keyRing: ring)
        if json { return try Console.json(KeysReport(activeVersion: ring.activeVersion, keys: usage)) }
        Console.out(Table.render(header: ["VERSION", "STATE", "CREATED", "VALUES"], rows: usage.map {
            ["\($0.version)", $0.missing ? "MISSING FROM RING" : $0.active ? "active" : "retired", $0.created ?? "-", "\($0.values)"]
        }))
        if usage.contains(where: { !$0.active && $0.values > 0 }) {
            Console.out("\nSome values are sealed under an older key: run `rekey keys rewrap`.")
        }
        if usage.contains(where: \.missing) { throw ExitCode(1) }
    }
}

struct KeysReport: Encodable {
    var activeVersion: Int
    var keys: [KeyUsage]
}

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

struct KeysRewrap: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rewrap",
        abstract: "Re-seal every value under the active key. Idempotent and resumable; prints counts only.")

    @OptionGroup var options: GlobalOptions
    @Option(help: "Values re-sealed per transaction.") var batchSize = 500
    @Flag(help: "Print the result as JSON.") var json = false

    func validate() throws {
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
    }

    func run() async throws {
        let ring = try options.loadKeyRing()
        let store = try options.openStore(logger: options.makeLogger())
        let summary = try await store.rewrap(keyRing: ring, batchSize: batchSize) { done in
            Console.error("rewrap: \(done) values re-sealed")
        }
        if json { return try Console.json(summary) }
        Console.out("re-sealed \(summary.rewrapped) values under key version \(summary.activeVersion); "
            + "\(summary.alreadyCurrent) were already current")
    }
}
