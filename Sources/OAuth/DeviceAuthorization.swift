import Foundation

/// A device authorization response (RFC 8628 §3.2): what to show the user, and the device
/// code to poll with. Printing it never shows the device code.
public struct DeviceAuthorization: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// `device_code`, secret.
    public var deviceCode: String
    /// `user_code`, for the user to enter at ``verificationURI``.
    public var userCode: String
    /// `verification_uri` (`verification_url` from some servers).
    public var verificationURI: String
    /// `verification_uri_complete`: the URI with the user code included, if offered.
    public var verificationURIComplete: String?
    /// `expires_in`, seconds.
    public var expiresIn: Int
    /// When the device code expires.
    public var expiresAt: Date
    /// `interval`: minimum seconds between polls (5 if the server gave none).
    public var interval: Int

    init?(json: [String: JSONValue], issuedAt: Date) {
        guard let deviceCode = json["device_code"]?.stringValue, let userCode = json["user_code"]?.stringValue,
              let verificationURI = (json["verification_uri"] ?? json["verification_url"])?.stringValue,
              let expiresIn = json["expires_in"]?.intValue else { return nil }
        self.deviceCode = deviceCode
        self.userCode = userCode
        self.verificationURI = verificationURI
        self.verificationURIComplete = json["verification_uri_complete"]?.stringValue
        self.expiresIn = expiresIn
        self.expiresAt = issuedAt.addingTimeInterval(TimeInterval(expiresIn))
        self.interval = json["interval"]?.intValue ?? 5
    }

    public var description: String {
        "DeviceAuthorization(userCode: \(userCode), verificationURI: \(verificationURI), expiresAt: \(expiresAt), interval: \(interval))"
    }
    public var debugDescription: String { description }
    public var customMirror: Mirror {
        Mirror(self, children: ["deviceCode": "<redacted>", "userCode": userCode, "verificationURI": verificationURI])
    }
}
