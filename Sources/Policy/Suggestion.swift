import ConfigFile

/// `; did you mean 'x'?` or nothing, to end a message with.
func suggestion(for name: String, in candidates: [String]) -> String {
    nearestName(to: name, in: candidates).map { "; did you mean '\($0)'?" } ?? ""
}
