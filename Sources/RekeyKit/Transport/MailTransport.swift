import Foundation

/// A message ready for the wire: envelope and bytes.
public struct OutgoingMail: Sendable {
    /// The recipient row this message is for.
    public var recipientID: Int64
    /// The campaign the message belongs to.
    public var campaignID: Int64
    /// The SMTP `MAIL FROM` address.
    public var envelopeFrom: String
    /// The SMTP `RCPT TO` address: the one recipient.
    public var envelopeTo: String
    /// The whole RFC 5322 message, CRLF line ends, before dot-stuffing.
    public var bytes: [UInt8]
}

/// Where campaign messages go. Two real implementations: SMTP over libcurl, and a local outbox folder.
public protocol MailTransport: Sendable {
    /// Tries once to deliver; never throws: every failure is a `DeliveryResult`.
    func deliver(_ mail: OutgoingMail) async -> DeliveryResult
    /// Where messages go, for people (never includes a password).
    var destination: String { get }
}

/// The embedded default when no SMTP server is configured: each message becomes an `.eml` file in
/// `<directory>/campaign-<id>/<recipient>.eml`, exactly the bytes SMTP would carry.
public struct OutboxTransport: MailTransport {
    /// The outbox folder; made 0700 when missing.
    public let directory: String

    /// An outbox writing under `directory`.
    public init(directory: String) { self.directory = directory }

    /// `outbox <directory>`.
    public var destination: String { "outbox \(directory)" }

    /// The mode of the outbox folder when it already exists and its group or others may enter or read it
    /// (rekey creates it 0700, but leaves the mode of a folder it finds alone), else nil.
    public var modeOpenToOthers: Int? {
        guard let mode = (try? FileManager.default.attributesOfItem(atPath: directory))?[.posixPermissions] as? Int else { return nil }
        return mode & 0o077 != 0 ? mode : nil
    }

    /// Writes the message as an owner-only `.eml` file: accepted when written, transient when the write fails.
    public func deliver(_ mail: OutgoingMail) async -> DeliveryResult {
        let folder = URL(fileURLWithPath: directory).appendingPathComponent("campaign-\(mail.campaignID)")
        do {
            // Owner only: each message names a customer and carries their reconnect link.
            for dir in [URL(fileURLWithPath: directory), folder] {
                try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            }
            // 0600 from the moment the file exists, replaced atomically on a re-send.
            try PrivateFile.write(mail.bytes, to: folder.appendingPathComponent("\(mail.recipientID).eml").path, replacing: true)
            return DeliveryResult(outcome: .accepted, code: 250, text: "written to \(folder.path)")
        } catch {
            return DeliveryResult(outcome: .transient, text: "cannot write to the outbox: \(error.localizedDescription)")
        }
    }
}
