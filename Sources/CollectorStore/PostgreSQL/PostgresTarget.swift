import Foundation
import PostgresClient

/// Which database a `database` setting names: a PostgreSQL connection string (a
/// `postgres://` or `postgresql://` URI, or libpq's `key=value` pairs), or a SQLite file
/// (a path, or `sqlite:PATH` to say so).
public enum PostgresTarget {
    /// Whether `database` is for PostgreSQL.
    public static func isPostgres(_ database: String) -> Bool {
        if database.hasPrefix("postgres://") || database.hasPrefix("postgresql://") { return true }
        // libpq's keyword form starts with a keyword and `=`: `host=db1 dbname=portwarden`.
        guard let equals = database.firstIndex(of: "=") else { return false }
        let keyword = database[..<equals].trimmingCharacters(in: .whitespaces)
        return !keyword.isEmpty && keyword.allSatisfy { $0.isASCII && ($0.isLetter || $0 == "_") }
    }

    /// `database` with any password replaced by `***`, for messages and logs: the one
    /// libpq reads in it (however spelt: percent-encoded, quoted, escaped), then whatever
    /// follows `password=` or a URI's `user:` (a string libpq cannot read still has its
    /// password hidden).
    public static func redacted(_ database: String) -> String {
        var text = database
        if let password = PGConnectionString.password(in: database) {
            text = text.replacingOccurrences(of: password, with: "***")
        }
        // URI: postgres://user:password@host/…
        if let scheme = text.range(of: "://"), let at = text[scheme.upperBound...].firstIndex(of: "@"),
           let colon = text[scheme.upperBound..<at].firstIndex(of: ":") {
            text.replaceSubrange(text.index(after: colon)..<at, with: "***")
        }
        // password=… as a keyword or a URI parameter, quoted or not.
        let isURI = database.contains("://")
        var result = ""
        var rest = Substring(text)
        while let range = rest.range(of: "password", options: .caseInsensitive) {
            result += rest[..<range.upperBound]
            rest = rest[range.upperBound...]
            let spaces = rest.prefix { $0.isWhitespace }
            guard rest.dropFirst(spaces.count).first == "=" else { continue }
            result += spaces + "="
            rest = rest.dropFirst(spaces.count + 1).drop { $0.isWhitespace }
            if rest.first == "'" {
                var escaped = false
                var end = rest.index(after: rest.startIndex)
                while end < rest.endIndex {
                    if escaped { escaped = false } else if rest[end] == "\\" { escaped = true } else if rest[end] == "'" { break }
                    end = rest.index(after: end)
                }
                rest = end < rest.endIndex ? rest[rest.index(after: end)...] : ""
            } else {
                // Up to the next separator: whitespace (a backslash escapes one), or `&` in a URI.
                var escaped = false
                rest = rest.drop { character in
                    defer { escaped = !escaped && character == "\\" }
                    return escaped || !(character.isWhitespace || (isURI && character == "&"))
                }
            }
            result += "***"
        }
        return result + rest
    }
}
