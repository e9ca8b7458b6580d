import Foundation
import RekeyTestSupport

/// Runs the built `rekey` binary in a temporary working directory with its own store, key ring and registry.
struct Rekey {
    let dir: TemporaryDirectory

    init() throws {
        dir = try TemporaryDirectory("rekey-e2e")
        try FileManager.default.copyItem(atPath: Paths.registry, toPath: dir.file("partners.yaml"))
    }

    @discardableResult
    func callAsFunction(_ arguments: String..., environment: [String: String] = [:]) async throws -> CommandResult {
        try await callAsFunction(arguments, environment: environment)
    }

    @discardableResult
    func callAsFunction(_ arguments: [String], environment: [String: String] = [:]) async throws -> CommandResult {
        try await runProcess(Paths.rekeyBinary, arguments, environment: environment.merging([
            "REKEY_LOG_LEVEL": "info",
            "REKEY_TEMPLATES": Paths.packageRoot.appendingPathComponent("Templates").path,
        ]) { a, _ in a },
                       directory: dir.path)
    }
}
