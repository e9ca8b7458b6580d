import Mustache

/// swift-mustache's HTML escaping (`& < > " '` as `&amp; &lt; &gt; &quot; &#39;`), byte by byte: its own walks
/// grapheme clusters through a dictionary, which was a tenth of composing an email. A value with nothing to
/// escape comes back as it is.
struct HTMLContent: MustacheContentType {
    /// The name of the `CONTENT_TYPE` pragma, registered by ``register()``.
    static let name = "REKEY_HTML"
    private static let registered: Void = MustacheContentTypes.register(HTMLContent(), named: name)

    /// Makes `{{% CONTENT_TYPE: REKEY_HTML}}` known to swift-mustache (once per process).
    static func register() { registered }

    func escapeText(_ text: String) -> String {
        text.replacingBytes(Self.entities)
    }

    private static let entities = ByteReplacements(["&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;"])
}
