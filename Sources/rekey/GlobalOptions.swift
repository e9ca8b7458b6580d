import ArgumentParser
import Foundation
import Logging
import RekeyKit

/// Options every command takes: where the store, the key ring and the registry are.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The SQLite store (env REKEY_DB).", valueName: "path"))
    var db: String = ProcessInfo.processInfo.environment["REKEY_DB"] ?? "./rekey.sqlite"

    @Option(name: .long, help: ArgumentHelp("The key ring, mode 0600 (env REKEY_KEYS).", valueName: "path"))
    var keys: String = ProcessInfo.processInfo.environment["REKEY_KEYS"] ?? "./rekey.keys"

    @Option(name: .long, help: ArgumentHelp("The registry of partners and integrations (env REKEY_REGISTRY).", valueName: "path"))
    var registry: String = ProcessInfo.processInfo.environment["REKEY_REGISTRY"] ?? "./partners.yaml"

    @Option(name: .long, help: ArgumentHelp("The templates folder (env REKEY_TEMPLATES).", valueName: "path"))
    var templates: String = ProcessInfo.processInfo.environment["REKEY_TEMPLATES"] ?? "./Templates"

    @Option(name: .long, help: ArgumentHelp("Log level: trace, debug, info, notice, warning, error (env REKEY_LOG_LEVEL).", valueName: "level"))
    var logLevel: String = ProcessInfo.processInfo.environment["REKEY_LOG_LEVEL"] ?? "warning"

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("unknown log level '\(logLevel)'; expected trace, debug, info, notice, warning or error")
        }
    }

    /// The logger handed to everything a command builds; it writes to stderr.
    func makeLogger() -> Logger {
        var logger = Logger(label: "rekey") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .warning
        return logger
    }

    func loadRegistry() throws -> Registry {
        try Registry.load(path: registry)
    }

    func loadKeyRing() throws -> KeyRing {
        try KeyRing.load(from: keys)
    }

    /// Opens an existing store and refuses a key ring that does not go with it (a key that differs from the one the
    /// store recorded for its version, or a missing version that still seals values).
    func openStore(logger: Logger, keyRing: KeyRing) throws -> AppDatabase {
        let store = try openStore(logger: logger)
        try store.checkKeyRing(keyRing, path: keys)
        // A reconnect killed while verifying left unverified tokens beside the password: they go before anything else.
        for id in try store.discardInterruptedAttempts(logger: logger) {
            Console.error("note: discarded the unverified tokens an interrupted reconnect left on \(id); its password is in place")
        }
        return store
    }

    /// Opens an existing store; commands other than `init` never create one by accident, nor take an empty file
    /// (which SQLite would open as an empty store, and report nothing exposed) for one.
    func openStore(logger: Logger) throws -> AppDatabase {
        guard FileManager.default.fileExists(atPath: db) else { throw StoreMissing(path: db, problem: .absent) }
        guard Self.fileSize(db) != 0 else { throw StoreMissing(path: db, problem: .empty) }
        // Secrets in it are sealed, but who is exposed is not: say so when others can read it.
        if let mode = (try? FileManager.default.attributesOfItem(atPath: db))?[.posixPermissions] as? Int, mode & 0o077 != 0 {
            Console.error("warning: the store \(db) is readable by others (mode \(String(mode, radix: 8))); run chmod 600 \(db)*")
        }
        return try AppDatabase(path: db, logger: logger)
    }
}

extension GlobalOptions {
    /// The size of the file at `path`, nil when it cannot be read.
    static func fileSize(_ path: String) -> Int? {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int
    }
}

struct StoreMissing: RekeyError {
    var exitCode: Int32 { 2 }
    enum Problem { case absent, empty }
    var path: String
    var problem: Problem
    var description: String {
        switch problem {
        case .absent: "no store at \(path); run `rekey init` first (or pass --db)"
        case .empty: "the store \(path) is an empty file (0 bytes), not a rekey store: it holds no installations to check. "
            + "Restore the store, or pass --db; `rekey init` makes a new one in its place"
        }
    }
}
