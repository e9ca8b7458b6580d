import Foundation
import RekeyKit
import Testing

@Suite struct SealingTests {
    let ring = KeyRing.generate()
    let here = SecretBinding(table: "installation_secret", column: "sealed", row: "inst_a/password")

    @Test func sealedValueOpensAtItsPlace() throws {
        let sealed = ring.seal(Secret("hunter2"), for: here)
        #expect(sealed.hasPrefix("enc:v1:1:"))
        #expect(!sealed.contains("hunter2"))
        #expect(try ring.open(sealed, for: here) == Secret("hunter2"))
        #expect(KeyRing.keyVersion(of: sealed) == 1)
    }

    @Test func sealingTwiceGivesDifferentCiphertexts() {
        #expect(ring.seal(Secret("same"), for: here) != ring.seal(Secret("same"), for: here))
    }

    @Test func emptyAndLongSecretsRoundTrip() throws {
        for secret in [Secret(""), Secret(String(repeating: "é", count: 5000))] {
            #expect(try ring.open(ring.seal(secret, for: here), for: here) == secret)
        }
    }

    @Test func aFlippedBitFailsAuthentication() throws {
        let sealed = ring.seal(Secret("hunter2"), for: here)
        var box = Array(Data(base64Encoded: String(sealed.split(separator: ":").last!))!)
        box[14] ^= 0x01
        let tampered = sealed.split(separator: ":").dropLast().joined(separator: ":") + ":" + Data(box).base64EncodedString()
        let error = #expect(throws: SealError.self) { try ring.open(tampered, for: here) }
        #expect(error?.problem == .authenticationFailed)
    }

    @Test func aTruncatedValueIsReportedAsTruncated() throws {
        let sealed = ring.seal(Secret("hunter2"), for: here)
        for cut in [1, 4, 8] {
            let error = #expect(throws: SealError.self) { try ring.open(String(sealed.dropLast(cut)), for: here) }
            guard case .truncated = error?.problem else {
                Issue.record("cutting \(cut) characters gave \(String(describing: error))")
                continue
            }
        }
    }

    @Test func aValueMovedToAnotherRowOrColumnIsRefused() throws {
        let sealed = ring.seal(Secret("hunter2"), for: here)
        let otherRow = SecretBinding(table: "installation_secret", column: "sealed", row: "inst_b/password")
        let otherColumn = SecretBinding(table: "installation_secret", column: "other", row: "inst_a/password")
        for place in [otherRow, otherColumn] {
            let error = #expect(throws: SealError.self) { try ring.open(sealed, for: place) }
            #expect(error?.problem == .boundElsewhere)
        }
    }

    @Test func aMovedValueWithAForgedBindingTagStillFails() throws {
        // An attacker who also rewrites the clear binding tag hits the AEAD check instead.
        let other = SecretBinding(table: "installation_secret", column: "sealed", row: "inst_b/password")
        var fields = ring.seal(Secret("hunter2"), for: here).split(separator: ":").map(String.init)
        fields[3] = String(ring.seal(Secret("x"), for: other).split(separator: ":")[3])
        let error = #expect(throws: SealError.self) { try ring.open(fields.joined(separator: ":"), for: other) }
        #expect(error?.problem == .authenticationFailed)
    }

    @Test func anUnknownKeyVersionIsNamed() throws {
        var fields = ring.seal(Secret("hunter2"), for: here).split(separator: ":").map(String.init)
        fields[2] = "7"
        let error = #expect(throws: SealError.self) { try ring.open(fields.joined(separator: ":"), for: here) }
        #expect(error?.problem == .unknownKeyVersion(7))
        #expect(error?.description.contains("key version 7") == true)
    }

    @Test func anotherRingCannotOpenIt() throws {
        let sealed = ring.seal(Secret("hunter2"), for: here)
        let error = #expect(throws: SealError.self) { try KeyRing.generate().open(sealed, for: here) }
        #expect(error?.problem == .authenticationFailed)
    }

    @Test func garbageIsMalformed() throws {
        for text in ["hunter2", "enc:v1:1:abc", "enc:v1:x:00000000:3:AAAA"] {
            let error = #expect(throws: SealError.self) { try ring.open(text, for: here) }
            guard case .malformed = error?.problem else {
                Issue.record("\(text) gave \(String(describing: error))")
                continue
            }
        }
    }

    @Test func secretsRedactThemselves() {
        let secret = Secret("hunter2")
        #expect("\(secret)" == "<redacted>")
        #expect(String(reflecting: secret) == "<redacted>")
    }
}
