extension StringProtocol {
    /// The string without leading and trailing characters from `set`.
    func trimmed(of set: String) -> String {
        let unwanted = Set(set.unicodeScalars)
        let scalars = String(self).unicodeScalars
        guard let start = scalars.firstIndex(where: { !unwanted.contains($0) }) else { return "" }
        let end = scalars.lastIndex(where: { !unwanted.contains($0) })!
        return String(scalars[start...end])
    }
}
