import Foundation
import RekeyTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The key ring under careless and concurrent use, with real processes: no secret is ever sealed under a key the
/// ring no longer holds, and a ring that does not go with the store is refused, naming the version.
@Suite struct KeyRingEndToEndTests {
    /// `count` installations as JSON Lines, each with one password.
    static func installations(_ count: Int, prefix: String = "Customer") -> String {
        (0..<count).map { index in
            #"{"customer": "\#(prefix) \#(index)", "integration": "jira-server", "contacts": ["ops\#(index)@c.example"], "#
                + #""config": {"base_url": "https://jira.c\#(index).example", "username": "svc"}, "secrets": {"password": "pw-\#(index)"}}"#
        }.joined(separator: "\n") + "\n"
    }

    /// Opens every sealed value: a rotation, then a rewrap that must re-seal all of them.
    static func expectEverySecretOpens(_ rekey: Rekey, count: Int) async throws {
        #expect(try await rekey("keys", "rotate").status == 0)
        let rewrap = try await rekey("keys", "rewrap", "--json")
        #expect(rewrap.status == 0, "\(rewrap.stderr)")
        #expect(try rewrap.json()["rewrapped"] as? Int == count, "\(rewrap.stdout)")
    }

    @Test func pruningWhileAnImportRunsLosesNothing() async throws {
        // Given a store with some secrets, and a large import starting
        let rekey = try Rekey()
        try await rekey("init")
        try rekey.dir.write("first.jsonl", Self.installations(10, prefix: "Early"))
        #expect(try await rekey("installations", "import", "first.jsonl").status == 0)
        try rekey.dir.write("big.jsonl", Self.installations(8_000))

        var outcomes: [Int32] = []
        for _ in 0..<3 {
            let importer = try launchProcess(Paths.rekeyBinary, ["installations", "import", "big.jsonl"],
                                             directory: rekey.dir.path, stderr: rekey.dir.file("import.err"))
            // When the keys are rotated, rewrapped and pruned, over and over, while it runs
            var rounds = 0
            while !importer.hasExited {
                for command in [["keys", "rotate"], ["keys", "rewrap"], ["keys", "prune"]] {
                    let result = try await rekey(command)
                    #expect(result.status == 0, "\(command): \(result.stderr)")
                }
                rounds += 1
            }
            #expect(rounds > 0)
            // Then the import either sealed under a key that is kept, or was refused and wrote nothing
            let status = importer.waitForExit()
            let stderr = try String(contentsOfFile: rekey.dir.file("import.err"), encoding: .utf8)
            #expect(status == 0 || status == 1 && stderr.contains("was pruned from the key ring while this command ran"), "\(stderr)")
            outcomes.append(status)
            let keys = try await rekey("keys", "status")
            #expect(keys.status == 0, "\(keys.stdout)\(keys.stderr)")
            #expect(!keys.stdout.contains("MISSING"))
        }
        let imported = outcomes.contains(0) ? 8_010 : 10
        try await Self.expectEverySecretOpens(rekey, count: imported)
    }

    @Test func twoRotationsAtOnceMakeTwoKeysAndEverythingStillOpens() async throws {
        // Given a store with sealed values
        let rekey = try Rekey()
        try await rekey("init")
        try rekey.dir.write("i.jsonl", Self.installations(20))
        #expect(try await rekey("installations", "import", "i.jsonl").status == 0)

        for _ in 0..<4 {
            // When two `keys rotate` run at once
            let runs = try (0..<2).map { index in
                try launchProcess(Paths.rekeyBinary, ["keys", "rotate", "--json"], directory: rekey.dir.path,
                                  stdout: rekey.dir.file("rotate\(index).out"), stderr: rekey.dir.file("rotate\(index).err"))
            }
            // Then both succeed with different versions, each kept in the ring
            var versions: Set<Int> = []
            for (index, run) in runs.enumerated() {
                let err = try String(contentsOfFile: rekey.dir.file("rotate\(index).err"), encoding: .utf8)
                #expect(run.waitForExit() == 0, "\(err)")
                let out = try Data(contentsOf: URL(fileURLWithPath: rekey.dir.file("rotate\(index).out")))
                let report = try #require(try JSONSerialization.jsonObject(with: out) as? [String: Any])
                versions.insert(try #require(report["active_version"] as? Int))
            }
            #expect(versions.count == 2)
            // And values sealed meanwhile open
            #expect(try await rekey("keys", "rewrap").status == 0)
        }
        let status = try await rekey("keys", "status", "--json")
        #expect(status.status == 0, "\(status.stderr)")
        #expect((try status.json()["keys"] as? [Any])?.count == 9)
        try await Self.expectEverySecretOpens(rekey, count: 20)
    }

    @Test func initWithTheRingMissingRefusesAndCreatesNone() async throws {
        // Given a store holding sealed values, and its ring moved away
        let rekey = try Rekey()
        try await rekey("init")
        try rekey.dir.write("i.jsonl", Self.installations(4))
        #expect(try await rekey("installations", "import", "i.jsonl").status == 0)
        try FileManager.default.moveItem(atPath: rekey.dir.file("rekey.keys"), toPath: rekey.dir.file("elsewhere.keys"))

        // When init runs
        let result = try await rekey("init")

        // Then it refuses, names what it would strand, and makes no ring
        #expect(result.status == 2)
        #expect(result.stderr.contains("the store holds 4 values sealed under key version 1"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: rekey.dir.file("rekey.keys")))
        let elsewhere = try await rekey("keys", "status", "--keys", "elsewhere.keys")
        #expect(elsewhere.status == 0, "\(elsewhere.stderr)")
    }

    @Test func aRingThatDoesNotMatchTheStoreIsRefusedNamingTheVersion() async throws {
        // Given a store with sealed values, and a ring from another store (same version number, other key)
        let rekey = try Rekey()
        try await rekey("init")
        try rekey.dir.write("i.jsonl", Self.installations(4))
        #expect(try await rekey("installations", "import", "i.jsonl").status == 0)
        let other = try Rekey()
        try await other("init")

        // And a copy of the right ring with one bit of its key flipped
        let ringData = try Data(contentsOf: URL(fileURLWithPath: rekey.dir.file("rekey.keys")))
        var ringJSON = try #require(try JSONSerialization.jsonObject(with: ringData) as? [String: Any])
        var keys = try #require(ringJSON["keys"] as? [[String: Any]])
        var bytes = try #require((keys[0]["key"] as? String).flatMap { Data(base64Encoded: $0) })
        bytes[7] ^= 0x01
        keys[0]["key"] = bytes.base64EncodedString()
        ringJSON["keys"] = keys
        let flippedPath = rekey.dir.file("flipped.keys")
        #expect(FileManager.default.createFile(atPath: flippedPath, contents: try JSONSerialization.data(withJSONObject: ringJSON),
                                               attributes: [.posixPermissions: 0o600]))

        // When commands open either ring, they refuse it, naming version 1, and change nothing
        for ring in [other.dir.file("rekey.keys"), flippedPath] {
            for command in [["keys", "status"], ["keys", "rewrap"], ["audit"], ["init"]] {
                let result = try await rekey(command + ["--keys", ring])
                #expect(result.status == 2, "\(command): \(result.stderr)")
                #expect(result.stderr.contains("does not match the store: its key version 1"), "\(command): \(result.stderr)")
            }
        }
        // Then the right ring still opens everything
        try await Self.expectEverySecretOpens(rekey, count: 4)
    }

    @Test(.enabled(if: geteuid() == 0, "only root can give a file to another user"))
    func aRingOwnedByAnotherUserIsRefused() async throws {
        // Given a ring that belongs to another user (nobody), mode 0600
        let rekey = try Rekey()
        try await rekey("init")
        #expect(chown(rekey.dir.file("rekey.keys"), 65534, 65534) == 0)

        // When root runs rekey with it, it is refused
        let result = try await rekey("keys", "status")
        #expect(result.status == 2)
        #expect(result.stderr.contains("belongs to user 65534, not to the user running rekey (0)"), "\(result.stderr)")
    }

    @Test func aZeroByteStoreIsNotAnAllClear() async throws {
        // Given a store truncated to zero bytes
        let rekey = try Rekey()
        try await rekey("init")
        #expect(truncate(rekey.dir.file("rekey.sqlite"), 0) == 0)

        // When the audit and the log verification run, they refuse it rather than report nothing exposed
        for command in [["audit"], ["log", "verify"], ["installations", "list"]] {
            let result = try await rekey(command)
            #expect(result.status == 2, "\(command): \(result.stdout)")
            #expect(result.stderr.contains("is an empty file (0 bytes), not a rekey store"), "\(command): \(result.stderr)")
            #expect(!result.stdout.contains("No exposed") && !result.stdout.contains("chain intact"))
        }

        // And init makes a store in its place
        let again = try await rekey("init", "--json")
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try again.json()["store_created"] as? Bool == true)
        #expect(try await rekey("audit").status == 0)
    }
}
