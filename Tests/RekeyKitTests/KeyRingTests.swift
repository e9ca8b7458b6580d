import Foundation
import RekeyKit
import RekeyTestSupport
import Testing

@Suite struct KeyRingTests {
    @Test func savedRingLoadsBackWithMode0600() throws {
        let dir = try TemporaryDirectory()
        var ring = KeyRing.generate()
        ring.rotate()
        try ring.save(to: dir.file("k"))
        let mode = try FileManager.default.attributesOfItem(atPath: dir.file("k"))[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let loaded = try KeyRing.load(from: dir.file("k"))
        #expect(loaded.versions == [1, 2])
        #expect(loaded.activeVersion == 2)
        let binding = SecretBinding(table: "t", column: "c", row: "r")
        #expect(try loaded.open(ring.seal(Secret("s"), for: binding), for: binding) == Secret("s"))
    }

    @Test func aLooserModeIsRefused() throws {
        let dir = try TemporaryDirectory()
        try KeyRing.generate().save(to: dir.file("k"))
        chmod(dir.file("k"), 0o644)
        let error = #expect(throws: KeyRingError.self) { try KeyRing.load(from: dir.file("k")) }
        #expect(error?.problem == .looseMode(0o644))
        #expect(error?.description.contains("chmod 600") == true)
    }

    @Test(arguments: [
        ("not json", "not a rekey-keyring-v1 JSON document"),
        (#"{"format":"rekey-keyring-v1","active":1,"keys":[{"version":1,"key":"c2hvcnQ=","created":"2026-01-01T00:00:00Z"}]}"#, "key version 1 is not 32 bytes"),
        (#"{"format":"rekey-keyring-v1","active":2,"keys":[{"version":1,"key":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","created":"2026-01-01T00:00:00Z"}]}"#, "the active version 2 has no key"),
        (#"{"format":"rekey-keyring-v1","active":1,"keys":[{"version":1,"key":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","created":"2026-01-01T00:00:00Z"},{"version":1,"key":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","created":"2026-01-01T00:00:00Z"}]}"#, "key version 1 appears twice"),
    ])
    func aMalformedRingIsRefused(text: String, expected: String) throws {
        let dir = try TemporaryDirectory()
        let path = try dir.write("k", text)
        chmod(path, 0o600)
        let error = #expect(throws: KeyRingError.self) { try KeyRing.load(from: path) }
        #expect(error?.description.contains(expected) == true, "\(String(describing: error))")
    }

    @Test func aMissingRingSaysHowToCreateOne() throws {
        let error = #expect(throws: KeyRingError.self) { try KeyRing.load(from: "/nonexistent/rekey.keys") }
        #expect(error?.description.contains("rekey init") == true)
    }
}
