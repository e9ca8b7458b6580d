import Foundation

/// Where the package and its built products are, seen from the tests.
public enum Paths {
    /// The package root (the folder holding Package.swift).
    public static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The shipped registry.
    public static var registry: String { packageRoot.appendingPathComponent("partners.yaml").path }

    /// A Python test server script under Tests/Servers.
    public static func server(_ name: String) -> String {
        packageRoot.appendingPathComponent("Tests/Servers/\(name)").path
    }

    /// The `rekey` executable built next to the test bundle (or `REKEY_BINARY`).
    public static var rekeyBinary: String {
        if let override = ProcessInfo.processInfo.environment["REKEY_BINARY"] { return override }
        let candidates = [
            Bundle.main.bundleURL.appendingPathComponent("rekey"),
            Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("rekey"),
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("rekey"),
            packageRoot.appendingPathComponent(".build/debug/rekey"),
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }?.path
            ?? packageRoot.appendingPathComponent(".build/debug/rekey").path
    }
}
