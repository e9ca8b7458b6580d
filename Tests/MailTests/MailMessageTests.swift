import Foundation
import Mail
import RekeyTestSupport
import Testing

@Suite struct MailMessageTests {
    func message(subject: String = "Action required", name: String? = "Zoë Ångström", text: String = "Hello\n",
                 html: String? = "<p>Hello</p>") -> MailMessage {
        MailMessage(
            from: MailAddress(name: "Acme Security", address: "security@acme.example"),
            to: [MailAddress(name: name, address: "zoe@customer.example")],
            replyTo: MailAddress(address: "incident@acme.example"),
            subject: subject, text: text, html: html, messageID: "abc123@acme.example",
            date: Date(timeIntervalSince1970: 1_796_000_000),
            listUnsubscribe: ["mailto:unsubscribe@acme.example", "https://acme.example/u/1"], oneClickUnsubscribe: true)
    }

    /// Writes each message to a file and has Python's `email` package parse them.
    func parsed(_ messages: [MailMessage]) async throws -> [[String: Any]] {
        let dir = try TemporaryDirectory()
        let files = try messages.enumerated().map { index, message in
            let path = dir.file("\(index).eml")
            try Data(try message.encoded()).write(to: URL(fileURLWithPath: path))
            return path
        }
        let result = try await runProcess("/usr/bin/env", ["python3", Paths.packageRoot.appendingPathComponent("Tests/Tools/parse_email.py").path] + files)
        #expect(result.status == 0, "\(result.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
    }

    @Test func pythonsEmailParserSeesTheIntendedMessage() async throws {
        let subject = "Sécurité : vos identifiants Jira — action requise avant vendredi 🔐 (réf. INC-2026-11)"
        let text = "Bonjour Zoë,\n\nVotre mot de passe Jira a été exposé.\nLine with trailing space \n= sign and 🔐\n"
        let html = "<p>Bonjour <b>Zoë</b> &amp; équipe</p>\n<p>" + String(repeating: "long line ", count: 200) + "</p>\n"
        let info = try #require(try await parsed([message(subject: subject, text: text, html: html)]).first)
        #expect(info["subject"] as? String == subject)
        #expect(info["from_name"] as? String == "Acme Security")
        #expect(info["to_names"] as? [String] == ["Zoë Ångström"])
        #expect(info["to_addresses"] as? [String] == ["zoe@customer.example"])
        #expect(info["reply_to"] as? String == "incident@acme.example")
        #expect(info["message_id"] as? String == "<abc123@acme.example>")
        #expect(info["content_type"] as? String == "multipart/alternative")
        #expect(info["parts"] as? [String] == ["multipart/alternative", "text/plain", "text/html"])
        #expect(info["text"] as? String == text)
        #expect(info["html"] as? String == html)
        #expect((info["defects"] as? [String])?.isEmpty == true, "\(info["defects"] ?? "")")
        #expect((info["max_line_octets"] as? Int ?? 999) <= 78, "\(info["longest_line"] ?? "")")
        #expect(info["bare_lf"] as? Bool == false)
        #expect(info["list_unsubscribe"] as? String == "<mailto:unsubscribe@acme.example>, <https://acme.example/u/1>")
        #expect(info["list_unsubscribe_post"] as? String == "List-Unsubscribe=One-Click")
    }

    @Test func mostlyNonASCIIBodiesGoBase64AndStillRoundTrip() async throws {
        let text = String(repeating: "Ваш пароль был раскрыт. ", count: 60) + "\n"
        let info = try #require(try await parsed([message(text: text, html: nil)]).first)
        #expect(info["content_type"] as? String == "text/plain")
        #expect(info["text"] as? String == text)
        let raw = String(decoding: try message(text: text, html: nil).encoded(), as: UTF8.self)
        #expect(raw.contains("Content-Transfer-Encoding: base64"))
    }

    @Test func longHeadersAreFoldedAndEncodedSoEveryLineFitsAndDecodesToTheInput() async throws {
        // (Python's policy.default keeps the space between adjacent encoded-words in a display name, against RFC 2047
        // §6.2: names that need several encoded-words are compared as RFC 2047 decodes them.)
        let cases: [(subject: String, name: String, severalEncodedWords: Bool)] = [
            ("Rotate now: " + String(repeating: "x", count: 2490), "Doe, " + String(repeating: "J", count: 1500), true),
            (String(repeating: "word ", count: 500) + "end", String(repeating: "Zoë ", count: 300) + "Å", true),
            (String(repeating: "é", count: 1200), "A" + String(repeating: "b", count: 1400), true),
            ("Looks encoded: =?UTF-8?B?SGk=?= but is not", "=?UTF-8?B?SGk=?=", false),
            ("Short", String(repeating: "Doe, \"John\" ", count: 120) + "Jr.", false),
        ]
        let infos = try await parsed(cases.map { message(subject: $0.subject, name: $0.name) })
        for (info, given) in zip(infos, cases) {
            #expect(info["subject"] as? String == given.subject)
            #expect(info["to_names_rfc2047"] as? [String] == [given.name])
            if !given.severalEncodedWords { #expect(info["to_names"] as? [String] == [given.name]) }
            #expect((info["max_line_octets"] as? Int ?? .max) <= 78, "\(info["longest_line"] ?? "")")
            #expect((info["defects"] as? [String])?.isEmpty == true, "\(info["defects"] ?? "")")
        }
    }

    @Test func onlyAWordThatNoFoldingCanFitIsRefused() {
        var long = message()
        long.listUnsubscribe = ["https://acme.example/u/" + String(repeating: "a", count: 1000)]
        #expect(throws: MIMEError(field: "List-Unsubscribe", problem: .unfoldableWord(octets: 1025))) { try long.validate() }
        var address = message()
        address.to = [MailAddress(name: "Zoë", address: String(repeating: "a", count: 990) + "@c.example")]
        let error = #expect(throws: MIMEError.self) { try address.encoded() }
        #expect(error?.description == "To holds a 1002-octet word with no place to fold it; a header line may be at most 998 octets (RFC 5322)")
    }

    @Test func displayNamesWithSpecialsAreQuoted() async throws {
        let info = try #require(try await parsed([message(name: "Doe, John \"JD\"")]).first)
        #expect(info["to_names"] as? [String] == ["Doe, John \"JD\""])
    }

    @Test(arguments: [
        ("Subject", "Hello\r\nBcc: victim@example.com"),
        ("Subject", "Hello\nX-Evil: 1"),
    ])
    func lineBreaksInHeadersAreRefused(field: String, value: String) {
        let error = #expect(throws: MIMEError.self) { try message(subject: value).encoded() }
        #expect(error?.field == field)
        #expect(error?.problem == .lineBreakInHeader)
    }

    @Test func lineBreaksInNamesAndAddressesAreRefused() {
        var bad = message(name: "Eve\r\nBcc: x@y.example")
        #expect(throws: MIMEError.self) { try bad.encoded() }
        bad = message()
        bad.to = [MailAddress(address: "a@b.example\r\nBcc: x@y.example")]
        let error = #expect(throws: MIMEError.self) { try bad.encoded() }
        #expect(error?.field == "To")
    }

    @Test func quotedPrintableFollowsRFC2045() {
        func qp(_ s: String) -> String { String(decoding: QuotedPrintable.encode(s), as: UTF8.self) }
        #expect(qp("a=b") == "a=3Db")
        #expect(qp("trailing \nnext") == "trailing=20\r\nnext")
        #expect(qp("é") == "=C3=A9")
        let long = qp(String(repeating: "x", count: 200))
        #expect(long.components(separatedBy: "\r\n").allSatisfy { $0.count <= 76 })
        #expect(long.replacingOccurrences(of: "=\r\n", with: "") == String(repeating: "x", count: 200))
        // An escape is never split across a soft break.
        let escapes = qp(String(repeating: "é", count: 50))
        #expect(escapes.components(separatedBy: "\r\n").allSatisfy { $0.count <= 76 && !$0.dropLast().hasSuffix("=") || $0.hasSuffix("=") })
    }

    @Test func rfc5322Date() throws {
        let raw = String(decoding: try message().encoded(), as: UTF8.self)
        #expect(raw.hasPrefix("Date: Mon, 30 Nov 2026 00:53:20 +0000\r\n"))
    }

    @Test func messageIDsAreUnique() {
        let ids = Set((0..<1000).map { _ in MailMessage.newMessageID(domain: "acme.example") })
        #expect(ids.count == 1000)
    }

    @Test func addressParsing() {
        #expect(MailAddress(parsing: "Acme Security <security@acme.example>") == MailAddress(name: "Acme Security", address: "security@acme.example"))
        #expect(MailAddress(parsing: "\"Acme, Inc.\" <a@acme.example>")?.name == "Acme, Inc.")
        #expect(MailAddress(parsing: "a@acme.example") == MailAddress(address: "a@acme.example"))
        #expect(MailAddress(parsing: "not an address") == nil)
    }
}
