/// Why a command will not use the database it was pointed at, and what to do.
public enum DatabaseUnusable: Error, CustomStringConvertible, Sendable {
    case missing(String)
    case older(String, pending: [String])
    case newer(String)

    public var description: String {
        switch self {
        case .missing(let path):
            "there is no database at \(path): pass the collector's --state-dir (or --config naming its `database:`); "
                + "a new collector starts with `portwarden ca init`"
        case .older(let path, let pending):
            "the database at \(path) was written by an older release (\(pending.joined(separator: ", ")) not applied): "
                + "back it up, then start this release's `portwarden serve` once to upgrade it"
        case .newer(let path):
            "the database at \(path) was written by a newer release of portwarden: use that release's commands"
        }
    }
}
