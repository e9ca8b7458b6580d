import CCurl

/// Owns one libcurl easy handle (`CURL *`) plus the state its callbacks write into:
/// a capped response body, response header lines, an upload body served by the read
/// callback, and the `curl_slist`s passed to list options.
///
/// Protocol-neutral: HTTP helpers live in an extension, and the same handle can carry
/// e.g. SMTP (`CURLOPT_MAIL_FROM`, `set(CURLOPT_MAIL_RCPT, list:)`, `CURLOPT_UPLOAD` with
/// `uploadBody`).
///
/// Not thread-safe: use a handle from one thread at a time. Handles given to
/// `CurlMulti.perform(configure:complete:)` closures belong to the multi and must not be
/// retained beyond the closure.
public final class EasyHandle {
    /// The underlying `CURL *`, valid for the lifetime of this object.
    public let rawHandle: UnsafeMutableRawPointer
    private let errorBuffer: UnsafeMutablePointer<CChar>
    private var lists: [UInt32: UnsafeMutablePointer<curl_slist>] = [:]

    /// Response body bytes beyond this many are dropped (and `truncated` set); the transfer continues.
    public var maxResponseBytes: Int = .max
    /// Once the response body runs past this many bytes, the transfer is aborted: the write callback
    /// returns a short count, libcurl ends with `CURLE_WRITE_ERROR` and closes the connection, and
    /// `abortedAtCap` is set. By default never.
    public var abortResponseAfter: Int = .max
    /// Whether the last transfer was aborted because its body passed `abortResponseAfter`.
    public private(set) var abortedAtCap = false
    private var receivedBodyBytes = 0
    /// The response body received so far (at most `maxResponseBytes` bytes).
    public private(set) var responseBody: [UInt8] = []
    /// Whether response body bytes were dropped because of `maxResponseBytes`.
    public private(set) var truncated = false
    /// Header lines as libcurl delivered them, kept as bytes (with their CR LF) and decoded on demand:
    /// most transfers never read them. `headerLineEnds` holds where each line ends in `headerBytes`.
    private var headerBytes: [UInt8] = []
    private var headerLineEnds: [Int] = []
    /// Bytes served to libcurl by the read callback (uploads, POST bodies, SMTP messages).
    /// Assigning rewinds the read position.
    public var uploadBody: [UInt8] = [] { didSet { uploadOffset = 0; uploadComplete = false } }
    private var uploadOffset = 0
    /// Whether the read callback has handed libcurl the whole upload and signalled its end. For SMTP, a
    /// failure after this point may come after the server received the final dot.
    public private(set) var uploadComplete = false
    /// True while the handle is added to a multi handle.
    var inMulti = false

    /// Creates a handle with this type's callbacks installed and `CURLOPT_NOSIGNAL` set.
    public init() throws {
        try CurlGlobal.ensure()
        guard let handle = curl_easy_init() else {
            throw CurlError(CURLE_FAILED_INIT, detail: "curl_easy_init failed")
        }
        rawHandle = handle
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
        installDefaults()
    }

    deinit {
        curl_easy_cleanup(rawHandle)
        freeLists()
        errorBuffer.deallocate()
    }

    /// Resets every option to libcurl's default (`curl_easy_reset`, which keeps live
    /// connections and caches), frees owned lists, clears response/upload state and
    /// reinstalls this type's callbacks and user data.
    public func reset() {
        curl_easy_reset(rawHandle)
        freeLists()
        maxResponseBytes = .max
        abortResponseAfter = .max
        uploadBody = []
        clearResponse()
        installDefaults()
    }

    private func installDefaults() {
        let me = Unmanaged.passUnretained(self).toOpaque()
        _ = ccurl_easy_setopt_pointer(rawHandle, CURLOPT_ERRORBUFFER, errorBuffer)
        _ = ccurl_easy_setopt_long(rawHandle, CURLOPT_NOSIGNAL, 1)
        _ = ccurl_easy_setopt_pointer(rawHandle, CURLOPT_WRITEDATA, me)
        _ = ccurl_easy_setopt_pointer(rawHandle, CURLOPT_HEADERDATA, me)
        _ = ccurl_easy_setopt_pointer(rawHandle, CURLOPT_READDATA, me)
        _ = ccurl_easy_setopt_pointer(rawHandle, CURLOPT_SEEKDATA, me)
        _ = ccurl_easy_setopt_write_function(rawHandle) { ptr, size, count, userdata in
            let handle = Unmanaged<EasyHandle>.fromOpaque(userdata!).takeUnretainedValue()
            return handle.receiveBody(ptr, size &* count)
        }
        _ = ccurl_easy_setopt_header_function(rawHandle) { ptr, size, count, userdata in
            let handle = Unmanaged<EasyHandle>.fromOpaque(userdata!).takeUnretainedValue()
            return handle.receiveHeader(ptr, size &* count)
        }
        _ = ccurl_easy_setopt_read_function(rawHandle) { ptr, size, count, userdata in
            let handle = Unmanaged<EasyHandle>.fromOpaque(userdata!).takeUnretainedValue()
            return handle.supplyUpload(ptr, size &* count)
        }
        _ = ccurl_easy_setopt_seek_function(rawHandle) { userdata, offset, origin in
            let handle = Unmanaged<EasyHandle>.fromOpaque(userdata!).takeUnretainedValue()
            return handle.seekUpload(offset, origin)
        }
    }

    /// Clears the response state and rewinds the upload before a transfer.
    func clearResponse() {
        responseBody = []
        truncated = false
        abortedAtCap = false
        receivedBodyBytes = 0
        headerBytes.removeAll(keepingCapacity: true)
        headerLineEnds.removeAll(keepingCapacity: true)
        uploadOffset = 0
        uploadComplete = false
        errorBuffer[0] = 0
    }

    private func freeLists() {
        for list in lists.values { curl_slist_free_all(list) }
        lists = [:]
    }

    /// The `CURLOPT_ERRORBUFFER` text of the last failure, if any.
    public var errorDetail: String? {
        errorBuffer[0] == 0 ? nil : String(cString: errorBuffer)
    }

    // MARK: - Callbacks

    private func receiveBody(_ ptr: UnsafeMutablePointer<CChar>?, _ length: Int) -> Int {
        guard let ptr, length > 0 else { return length }
        let room = maxResponseBytes - responseBody.count
        let take = max(0, min(room, length))
        if take > 0 {
            responseBody.append(contentsOf: UnsafeRawBufferPointer(start: ptr, count: take))
        }
        if take < length { truncated = true }
        receivedBodyBytes += length
        if receivedBodyBytes > abortResponseAfter {
            abortedAtCap = true
            truncated = true
            return 0  // a short count aborts the transfer (CURLE_WRITE_ERROR)
        }
        return length  // "consumed": dropping bytes past maxResponseBytes alone must not abort the transfer
    }

    private func receiveHeader(_ ptr: UnsafeMutablePointer<CChar>?, _ length: Int) -> Int {
        guard let ptr, length > 0 else { return length }
        headerBytes.append(contentsOf: UnsafeRawBufferPointer(start: ptr, count: length))
        headerLineEnds.append(headerBytes.count)
        return length
    }

    /// Every header line libcurl delivered (all responses, without CR LF): HTTP status and
    /// header lines, or server response lines for protocols such as SMTP.
    public var responseHeaderLines: [String] {
        headerBytes.withUnsafeBytes { raw in
            var start = 0
            return headerLineEnds.map { end in
                var line = raw[start..<end]
                start = end
                while let last = line.last, last == 0x0D || last == 0x0A { line.removeLast() }
                return decodeHeaderBytes(line)
            }
        }
    }

    /// The last header line (without CR LF) that starts with `prefix`, such as an SMTP reply code; only that
    /// line is decoded.
    public func lastResponseHeaderLine(startingWith prefix: String) -> String? {
        let prefix = Array(prefix.utf8)
        return headerBytes.withUnsafeBytes { raw in
            for (index, end) in headerLineEnds.enumerated().reversed() {
                var line = raw[(index == 0 ? 0 : headerLineEnds[index - 1])..<end]
                guard line.starts(with: prefix) else { continue }
                while let last = line.last, last == 0x0D || last == 0x0A { line.removeLast() }
                return decodeHeaderBytes(line)
            }
            return nil
        }
    }

    /// Header fields of the last HTTP response (reset at each "HTTP/" status line).
    public var responseHeaders: [(name: String, value: String)] {
        var headers: [(name: String, value: String)] = []
        var inHTTPHeaderBlock = false
        for line in responseHeaderLines {
            if line.hasPrefix("HTTP/") {
                headers = []
                inHTTPHeaderBlock = true
            } else if line.isEmpty {
                inHTTPHeaderBlock = false
            } else if inHTTPHeaderBlock {
                if let first = line.unicodeScalars.first, first == " " || first == "\t" {
                    // Obsolete line folding: continue the previous field's value.
                    if !headers.isEmpty {
                        headers[headers.count - 1].value += " " + line.trimmingWhitespace()
                    }
                } else if let colon = line.firstIndex(of: ":") {
                    let name = String(line[..<colon]).trimmingWhitespace()
                    let value = String(line[line.index(after: colon)...]).trimmingWhitespace()
                    headers.append((name: name, value: value))
                }
            }
        }
        return headers
    }

    private func supplyUpload(_ ptr: UnsafeMutablePointer<CChar>?, _ length: Int) -> Int {
        guard let ptr, length > 0 else { return 0 }
        let count = min(length, uploadBody.count - uploadOffset)
        guard count > 0 else {
            uploadComplete = true
            return 0
        }
        uploadBody.withUnsafeBytes { source in
            UnsafeMutableRawPointer(ptr).copyMemory(from: source.baseAddress! + uploadOffset, byteCount: count)
        }
        uploadOffset += count
        if uploadOffset == uploadBody.count { uploadComplete = true }
        return count
    }

    private func seekUpload(_ offset: curl_off_t, _ origin: Int32) -> Int32 {
        // libcurl only ever seeks with SEEK_SET (0), to rewind for a retry or redirect.
        guard origin == 0, offset >= 0, offset <= uploadBody.count else { return CURL_SEEKFUNC_FAIL }
        uploadOffset = Int(offset)
        uploadComplete = false
        return CURL_SEEKFUNC_OK
    }

    // MARK: - Options

    private func optionType(_ option: CURLoption) -> curl_easytype? {
        Self.optionTypes[option.rawValue]
    }

    /// Every option's type, read once: `curl_easy_option_by_id` scans libcurl's whole table on each call.
    private static let optionTypes: [UInt32: curl_easytype] = {
        var types: [UInt32: curl_easytype] = [:]
        var entry = curl_easy_option_next(nil)
        while let option = entry {
            types[option.pointee.id.rawValue] = option.pointee.type  // an alias names the same id and type
            entry = curl_easy_option_next(option)
        }
        return types
    }()

    private func badArgument(_ option: CURLoption, _ what: String) -> CurlError {
        let name = curl_easy_option_by_id(option).flatMap { $0.pointee.name.map { String(cString: $0) } }
        return CurlError(CURLE_BAD_FUNCTION_ARGUMENT, detail: "CURLOPT_\(name ?? String(option.rawValue)) does not take \(what)")
    }

    /// Sets an integer option (`long` or `curl_off_t` options; the type is looked up).
    public func set(_ option: CURLoption, _ value: Int) throws {
        let type = optionType(option)
        let isOffT = type.map { $0 == CURLOT_OFF_T } ?? (option.rawValue >= 30000 && option.rawValue < 40000)
        let isLong = type.map { $0 == CURLOT_LONG || $0 == CURLOT_VALUES } ?? (option.rawValue < 10000)
        if isOffT {
            try check(ccurl_easy_setopt_off_t(rawHandle, option, curl_off_t(value)), errorBuffer)
        } else if isLong {
            try check(ccurl_easy_setopt_long(rawHandle, option, value), errorBuffer)
        } else {
            throw badArgument(option, "an integer")
        }
    }

    /// Sets a boolean (0/1 `long`) option.
    public func set(_ option: CURLoption, _ value: Bool) throws {
        try set(option, value ? 1 : 0)
    }

    /// Sets a string option (libcurl copies it). `CURLOPT_POSTFIELDS`, which libcurl would not
    /// copy, is sent as `CURLOPT_COPYPOSTFIELDS` with its byte length.
    public func set(_ option: CURLoption, _ value: String) throws {
        if option == CURLOPT_POSTFIELDS || option == CURLOPT_COPYPOSTFIELDS {
            try set(CURLOPT_POSTFIELDSIZE_LARGE, value.utf8.count)
            try check(ccurl_easy_setopt_string(rawHandle, CURLOPT_COPYPOSTFIELDS, value), errorBuffer)
            return
        }
        guard let type = optionType(option), type == CURLOT_STRING else {
            throw badArgument(option, "a string")
        }
        try check(ccurl_easy_setopt_string(rawHandle, option, value), errorBuffer)
    }

    /// Sets the request body to a copy of `bytes` (`CURLOPT_POSTFIELDSIZE_LARGE` + `CURLOPT_COPYPOSTFIELDS`).
    public func setPostFields(copying bytes: [UInt8]) throws {
        try set(CURLOPT_POSTFIELDSIZE_LARGE, bytes.count)
        let code = bytes.withUnsafeBytes { buffer in
            // An empty body still needs a valid pointer: libcurl copies zero bytes from it.
            ccurl_easy_setopt_pointer(rawHandle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: buffer.baseAddress ?? UnsafeRawPointer(("" as StaticString).utf8Start)))
        }
        try check(code, errorBuffer)
    }

    /// Sets a `curl_slist` option (e.g. `CURLOPT_HTTPHEADER`, `CURLOPT_MAIL_RCPT`). The list is
    /// owned by the handle until replaced, `reset()` or deinit. An empty array unsets it.
    public func set(_ option: CURLoption, list: [String]) throws {
        guard let type = optionType(option), type == CURLOT_SLIST else {
            throw badArgument(option, "a list")
        }
        var head: UnsafeMutablePointer<curl_slist>? = nil
        for item in list {
            guard let next = curl_slist_append(head, item) else {
                curl_slist_free_all(head)
                throw CurlError(CURLE_OUT_OF_MEMORY, detail: "curl_slist_append failed")
            }
            head = next
        }
        let code = ccurl_easy_setopt_slist(rawHandle, option, head)
        guard code == CURLE_OK else {
            curl_slist_free_all(head)
            try check(code, errorBuffer)
            return
        }
        if let old = lists.removeValue(forKey: option.rawValue) { curl_slist_free_all(old) }
        if let head { lists[option.rawValue] = head }
    }

    // MARK: - Info

    private static let infoTypeMask: UInt32 = 0xF0_0000

    /// Reads a `long` or `curl_off_t` info value.
    public func info(_ info: CURLINFO) throws -> Int {
        switch info.rawValue & Self.infoTypeMask {
        case UInt32(CURLINFO_LONG):
            var value = 0
            try check(ccurl_easy_getinfo_long(rawHandle, info, &value))
            return value
        case UInt32(CURLINFO_OFF_T):
            var value: curl_off_t = 0
            try check(ccurl_easy_getinfo_off_t(rawHandle, info, &value))
            return Int(value)
        default:
            throw CurlError(CURLE_BAD_FUNCTION_ARGUMENT, detail: "CURLINFO \(info.rawValue) is not an integer")
        }
    }

    /// Reads a `double` info value.
    public func info(_ info: CURLINFO) throws -> Double {
        guard info.rawValue & Self.infoTypeMask == UInt32(CURLINFO_DOUBLE) else {
            throw CurlError(CURLE_BAD_FUNCTION_ARGUMENT, detail: "CURLINFO \(info.rawValue) is not a double")
        }
        var value = 0.0
        try check(ccurl_easy_getinfo_double(rawHandle, info, &value))
        return value
    }

    /// Reads a string info value (nil when libcurl has none).
    public func info(_ info: CURLINFO) throws -> String? {
        guard info.rawValue & Self.infoTypeMask == UInt32(CURLINFO_STRING) else {
            throw CurlError(CURLE_BAD_FUNCTION_ARGUMENT, detail: "CURLINFO \(info.rawValue) is not a string")
        }
        var value: UnsafeMutablePointer<CChar>? = nil
        try check(ccurl_easy_getinfo_string(rawHandle, info, &value))
        return value.map { String(cString: $0) }
    }

    /// The last response code (HTTP status, or e.g. the SMTP reply code); 0 if none.
    public var responseCode: Int {
        get throws { try info(CURLINFO_RESPONSE_CODE) }
    }

    /// Total time of the last transfer, in seconds.
    public var totalTime: Double {
        get throws { Double(try info(CURLINFO_TOTAL_TIME_T) as Int) / 1_000_000 }
    }

    /// The IP address of the last connection, if any.
    public var primaryIP: String? {
        get throws {
            let ip: String? = try info(CURLINFO_PRIMARY_IP)
            return (ip?.isEmpty ?? true) ? nil : ip
        }
    }

    // MARK: - Blocking transfer

    /// Runs the configured transfer on this thread (`curl_easy_perform`), throwing on failure.
    /// Response state from a previous transfer is cleared first.
    public func perform() throws {
        precondition(!inMulti, "EasyHandle.perform() on a handle owned by a CurlMulti")
        clearResponse()
        try check(curl_easy_perform(rawHandle), errorBuffer)
    }
}

@available(*, unavailable, message: "EasyHandle is not thread-safe")
extension EasyHandle: Sendable {}

/// Header bytes as UTF-8 when valid, else as ISO-8859-1 (which HTTP historically used).
private func decodeHeaderBytes(_ bytes: Slice<UnsafeRawBufferPointer>) -> String {
    let utf8 = String(decoding: bytes, as: UTF8.self)
    if utf8.utf8.elementsEqual(bytes) { return utf8 }
    return String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) }))
}
