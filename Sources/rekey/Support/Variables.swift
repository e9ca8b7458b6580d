import ArgumentParser

/// Checks `--var` values: each must be `key=value`.
func validateVariables(_ pairs: [String]) throws {
    for pair in pairs where !pair.contains("=") { throw ValidationError("--var takes key=value, got '\(pair)'") }
}

/// `--var key=value` values as a dictionary (a later key wins; a value may contain `=`).
func parseVariables(_ pairs: [String]) -> [String: String] {
    var variables: [String: String] = [:]
    for pair in pairs {
        let parts = pair.split(separator: "=", maxSplits: 1)
        variables[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
    }
    return variables
}
