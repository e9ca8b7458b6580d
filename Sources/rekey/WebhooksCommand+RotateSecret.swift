import ArgumentParser
import Foundation
import RekeyKit

extension WebhooksCommand {
    struct RotateSecret: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate-secret",
            abstract: "Give a partner a new signing secret; the old one keeps signing alongside it for 24 hours.",
            discussion: """
                The new secret is sealed in the store. It is never printed: it is read from --secret-file, or generated and
                written to --out (mode 0600, never over an existing file) for you to hand to the partner.
                """)

        @OptionGroup var options: GlobalOptions
        @Argument(help: "The partner.") var partner: String
        @Option(help: ArgumentHelp("Use the whsec_ secret in this file.", valueName: "file")) var secretFile: String?
        @Option(help: ArgumentHelp("Where to write a generated secret (mode 0600; default <partner>.whsec; must not exist).", valueName: "file")) var out: String?
        @Option(help: ArgumentHelp("Seconds the old secrets keep signing.", valueName: "seconds")) var overlap = 86_400.0
        @Flag(help: "Print the result as JSON.") var json = false

        struct Result: Encodable {
            var partner: String
            var version: Int
            var secretFile: String
            var oldSecretsExpireAt: String
        }

        func run() async throws {
            let registry = try options.loadRegistry()
            let ring = try options.loadKeyRing()
            let store = try options.openStore(logger: options.makeLogger(), keyRing: ring)
            try await syncEndpointsWarning(store: store, registry: registry, keyRing: ring, options: options)
            let secret: StandardWebhooks.SigningSecret
            let file: String
            if let secretFile {
                guard let text = try? String(contentsOfFile: secretFile, encoding: .utf8),
                      let parsed = StandardWebhooks.SigningSecret(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                    throw InputError([Diagnostic(file: secretFile, message: "expected whsec_ followed by 24 to 64 bytes of base64")])
                }
                secret = parsed
                file = secretFile
            } else {
                secret = .generate()
                file = out ?? "\(partner).whsec"
                do {
                    // Never over an existing file: it may hold an earlier secret not yet handed over.
                    try PrivateFile.write(Array((secret.exposed + "\n").utf8), to: file, replacing: false)
                } catch {
                    throw InputError([Diagnostic(file: file, message: "cannot write the new secret: \(error.reason)")])
                }
            }
            let version: Int
            do {
                version = try await store.rotateWebhookSecret(partner: partner, to: secret, keyRing: ring, overlap: overlap)
            } catch {
                // Not rotated: a generated secret that never became active must not block the next try.
                if secretFile == nil { unlink(file) }
                throw error
            }
            let expiry = AppDatabase.timestamp(Date().addingTimeInterval(overlap))
            if json { return try Console.json(Result(partner: partner, version: version, secretFile: file, oldSecretsExpireAt: expiry)) }
            Console.out("partner \(partner): signing secret version \(version) is active; older secrets also sign until \(expiry)")
            Console.out("the new secret is in \(file): hand it to the partner over a secure channel, then delete the file")
        }
    }
}
