import CCurl

/// Whether an SMTP transfer may go without TLS.
public enum SMTPTLS: Sendable, Equatable {
    /// STARTTLS when the server offers it, plain text otherwise (`CURLUSESSL_TRY`): only for loopback.
    case whenOffered
    /// STARTTLS (or smtps://) or no transfer (`CURLUSESSL_ALL`).
    case required
}

/// One message for an SMTP server, as libcurl sends it: the envelope, the bytes, and how to connect.
public struct SMTPUpload: Sendable {
    public var url: String
    public var from: String
    public var recipients: [String]
    public var message: [UInt8]
    public var tls: SMTPTLS
    /// A CA bundle to trust instead of the system's.
    public var caFile: String?
    public var username: String?
    public var password: String?
    /// Seconds for the whole transfer, and for connecting.
    public var timeout: Double
    public var connectTimeout: Double

    public init(url: String, from: String, recipients: [String], message: [UInt8], tls: SMTPTLS, caFile: String? = nil,
                username: String? = nil, password: String? = nil, timeout: Double, connectTimeout: Double) {
        self.url = url
        self.from = from
        self.recipients = recipients
        self.message = message
        self.tls = tls
        self.caFile = caFile
        self.username = username
        self.password = password
        self.timeout = timeout
        self.connectTimeout = connectTimeout
    }
}

extension EasyHandle {
    /// Sets the handle up to send `upload` (`MAIL FROM`, one `RCPT TO` per recipient, the message as `DATA`).
    public func configure(for upload: SMTPUpload) throws {
        try set(CURLOPT_URL, upload.url)
        try set(CURLOPT_MAIL_FROM, "<\(upload.from)>")
        try set(CURLOPT_MAIL_RCPT, list: upload.recipients.map { "<\($0)>" })
        try set(CURLOPT_UPLOAD, true)
        uploadBody = upload.message
        try set(CURLOPT_INFILESIZE_LARGE, upload.message.count)
        try set(CURLOPT_USE_SSL, Int((upload.tls == .required ? CURLUSESSL_ALL : CURLUSESSL_TRY).rawValue))
        if let ca = upload.caFile { try set(CURLOPT_CAINFO, ca) }
        if let user = upload.username { try set(CURLOPT_USERNAME, user) }
        if let password = upload.password { try set(CURLOPT_PASSWORD, password) }
        try set(CURLOPT_TIMEOUT_MS, Int(upload.timeout * 1000))
        try set(CURLOPT_CONNECTTIMEOUT_MS, Int(upload.connectTimeout * 1000))
    }

    /// Connects only where a check looked: `entry` (`host:port:address[,address…]`, `CURLOPT_RESOLVE`) pins the
    /// host's addresses when given, and no proxy from the environment (which would resolve the host again) is used.
    public func pin(_ entry: String?) throws {
        if let entry { try set(CURLOPT_RESOLVE, list: [entry]) }
        try set(CURLOPT_PROXY, "")
    }
}
