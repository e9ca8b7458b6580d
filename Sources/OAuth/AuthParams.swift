/// `auth-param` lists of HTTP authentication headers (`a="x", b=y`).
enum AuthParams {
    static func parse(_ text: String) -> [(name: String, value: String)] {
        var result: [(name: String, value: String)] = []
        var chars = Substring(text)
        func skip(_ set: Set<Character>) { while let c = chars.first, set.contains(c) { chars.removeFirst() } }
        while true {
            skip([" ", "\t", ","])
            guard let eq = chars.firstIndex(of: "=") else { break }
            let name = chars[..<eq].trimmed(of: " \t").lowercased()
            chars = chars[chars.index(after: eq)...]
            skip([" ", "\t"])
            var value = ""
            if chars.first == "\"" {
                chars.removeFirst()
                while let c = chars.first {
                    chars.removeFirst()
                    if c == "\\", let next = chars.first { value.append(next); chars.removeFirst() }
                    else if c == "\"" { break }
                    else { value.append(c) }
                }
            } else {
                let end = chars.firstIndex(of: ",") ?? chars.endIndex
                value = chars[..<end].trimmed(of: " \t")
                chars = chars[end...]
            }
            result.append((name, value))
        }
        return result
    }
}
