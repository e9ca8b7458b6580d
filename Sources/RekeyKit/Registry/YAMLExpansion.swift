import Yams

extension RegistryParser {
    /// The most nodes a document may expand to once its aliases are followed: generous for any real registry, and
    /// small enough that walking it stays cheap (a "billion laughs" file of a few KB otherwise expands to billions).
    static func expansionLimit(bytes: Int) -> Int { max(100_000, 4 * bytes) }

    /// Composes YAML, refusing a document whose aliases expand past `expansionLimit`, at the alias that crosses it.
    ///
    /// Yams shares an aliased node rather than copying it, so composing is cheap; what costs is every later walk of
    /// the tree. The count walks each anchored node once and remembers its size, so checking is linear in the file.
    static func compose(_ text: String, file: String, resolver: Resolver) throws(InputError) -> Node? {
        let parser: Parser
        let root: Node?
        do {
            parser = try Parser(yaml: text, resolver: resolver)
            root = try parser.singleRoot()
        } catch {
            throw InputError([diagnostic(for: error, in: text, file: file)])
        }
        guard let root else { return nil }
        // The parser holds the anchors strongly; nodes refer to them weakly.
        let crossing = withExtendedLifetime(parser) { () -> ExpansionCounter.Crossing? in
            var counter = ExpansionCounter(limit: expansionLimit(bytes: text.utf8.count))
            do throws(ExpansionCounter.Crossing) {
                _ = try counter.size(of: root)
                return nil
            } catch {
                return error
            }
        }
        if let crossing {
            let place = aliasPlace(crossing.anchor, occurrence: crossing.use, in: text) ?? (1, 1)
            throw InputError([Diagnostic(
                file: file, line: place.line, column: place.column,
                message: "alias *\(crossing.anchor) expands the document past \(crossing.limit) nodes; "
                    + "aliases may repeat a part, but not multiply the file")])
        }
        return root
    }

    /// Where the `occurrence`-th alias `*name` sits (from 1), counting in document order as the walk does and
    /// skipping comments. (Yams keeps no place for an alias: the node it yields is the anchored one.)
    static func aliasPlace(_ name: String, occurrence: Int, in text: String) -> (line: Int, column: Int)? {
        let token = Array(("*" + name).unicodeScalars)
        let scalars = Array(text.unicodeScalars)
        var seen = 0, line = 1, column = 1, index = 0
        func isNameScalar(_ scalar: Unicode.Scalar) -> Bool {
            !" \t\r\n,[]{}".unicodeScalars.contains(scalar)
        }
        while index < scalars.count {
            if scalars[index] == "#", index == 0 || [" ", "\t", "\n"].contains(scalars[index - 1]) {
                while index < scalars.count, scalars[index] != "\n" { index += 1 }
                continue
            }
            if scalars[index] == "*", scalars.count - index >= token.count, Array(scalars[index..<index + token.count]) == token,
               index + token.count == scalars.count || !isNameScalar(scalars[index + token.count]) {
                seen += 1
                if seen == occurrence { return (line, column) }
            }
            if scalars[index] == "\n" { line += 1; column = 1 } else { column += 1 }
            index += 1
        }
        return nil
    }
}

/// Counts the nodes of a composed YAML tree as if every alias were expanded, remembering each anchored node's size.
struct ExpansionCounter {
    struct Crossing: Error {
        var anchor: String
        /// Which use of this anchor's name, in document order, crossed the limit.
        var use: Int
        var limit: Int
    }

    let limit: Int
    private var total = 0
    private var sizes: [ObjectIdentifier: Int] = [:]
    private var uses: [String: Int] = [:]

    init(limit: Int) { self.limit = limit }

    mutating func size(of node: Node) throws(Crossing) -> Int {
        if let anchor = node.anchor, let known = sizes[ObjectIdentifier(anchor)] {
            // Seen before under this anchor: this is an alias, and it stands for the whole subtree again.
            uses[anchor.rawValue, default: 0] += 1
            total += known
            if total > limit { throw Crossing(anchor: anchor.rawValue, use: uses[anchor.rawValue]!, limit: limit) }
            return known
        }
        var size = 1
        total += 1
        switch node {
        case .mapping(let mapping):
            for (key, value) in mapping { size += try self.size(of: key) + self.size(of: value) }
        case .sequence(let sequence):
            for item in sequence { size += try self.size(of: item) }
        case .scalar, .alias:
            break
        }
        if let anchor = node.anchor { sizes[ObjectIdentifier(anchor)] = size }
        return size
    }
}
