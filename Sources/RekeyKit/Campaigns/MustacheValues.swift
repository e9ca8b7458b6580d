import Mustache

/// Template values in the shapes swift-mustache looks up fastest. It resolves every name by casting the
/// context to its protocols; a `[String: Any]` needs a conditional-conformance check per lookup and a
/// `String` is rendered through `String(describing:)` and searched with `Mirror`. Rendering is unchanged:
/// the same text, escaping, sections and transforms.
final class MustacheValues: MustacheParent {
    private let values: [String: Any]

    init(_ values: [String: Any]) {
        self.values = values.mapValues(Self.wrap)
    }

    func child(named name: String) -> Any? { values[name] }

    static func wrap(_ value: Any) -> Any {
        switch value {
        case let text as String: MustacheText(renderText: text)
        case let object as [String: Any]: MustacheValues(object)
        case let array as [Any]: array.map(wrap)
        default: value
        }
    }
}

/// A string value: rendered as itself, with no children, and with the string transforms (`uppercased`, …).
struct MustacheText: MustacheCustomRenderable, MustacheParent, MustacheTransformable {
    let renderText: String
    var isNull: Bool { false }
    func child(named: String) -> Any? { nil }
    func transform(_ name: String) -> Any? { renderText.transform(name) }
}
