import Foundation
import Mustache
@testable import RekeyKit
import Testing

/// rekey's own escapers for Mustache values: byte by byte, and the same text as before.
@Suite struct MustacheContentTests {
    static let samples = [
        "", "plain", "Zoë Ångström & Co", "<script>alert('x')</script>", "\"quoted\" & 'single'", "a&&b<<>>",
        "日本語 <b>", "emoji 👩‍💻 & more", "tab\there\nnew line\r\u{1}\u{1f}\u{7f}", "back\\slash \"q\"", "e\u{301}<\u{301}",
    ]

    @Test(arguments: samples)
    func htmlEscapingMatchesSwiftMustachesOwn(_ value: String) throws {
        // Given swift-mustache's built-in HTML content type and rekey's
        HTMLContent.register()
        let library = try MustacheTemplate(string: "[{{v}}]")
        let rekey = try MustacheTemplate(string: "{{% CONTENT_TYPE: \(HTMLContent.name)}}[{{v}}]")
        // When both render the value
        let expected = library.render(["v": value])
        let escaped = rekey.render(["v": value])
        // Then the bytes are the same, except where the library skips a '<' that a combining mark follows
        // (one grapheme cluster, not the character "<"); rekey escapes it too
        if value.contains("\u{301}") {
            #expect(escaped == "[e\u{301}&lt;\u{301}]")
            #expect(expected == "[e\u{301}<\u{301}]")
        } else {
            #expect(escaped == expected)
        }
    }

    @Test(arguments: samples)
    func jsonEscapingRoundTripsThroughAJSONParser(_ value: String) throws {
        // Given a JSON template with the value inside a string
        let escaped = JSONStringContent().escapeText(value)
        // When the result is parsed as JSON
        let parsed = try JSONSerialization.jsonObject(with: Data("[\"\(escaped)\"]".utf8)) as? [String]
        // Then it is the value itself, and no raw control character is left
        #expect(parsed == [value])
        #expect(!escaped.unicodeScalars.contains { $0.value < 0x20 })
    }

    @Test func nothingToEscapeGivesTheSameString() {
        #expect(HTMLContent().escapeText("Zoë Ångström") == "Zoë Ångström")
        #expect(JSONStringContent().escapeText("Zoë Ångström") == "Zoë Ångström")
        #expect(JSONStringContent().escapeText("\u{1}\u{1f}\n") == "\\u0001\\u001f\\n")
    }
}
