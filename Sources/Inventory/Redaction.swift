/// Secrets in what processes show about themselves — `mysql -pS3cret`, `--password=…`,
/// `--token VALUE`, `https://user:pass@host`, `PGPASSWORD=…` — replaced by `<redacted>`
/// before a snapshot is printed, spooled or sent (docs/wire-format.md, "Redaction").
///
/// The patterns are key names, not regular expressions: a secret on a command line is
/// almost always the value of a named option, variable or parameter, and that name is
/// what an operator knows. Names match in one pass with no backtracking, so neither a
/// hostile command line nor a careless pattern can make a scan slow, and no regex
/// engine is loaded into an agent that must stay within 12 MiB.
public struct Redaction: Sendable {
    /// What a secret becomes.
    public static let marker = "<redacted>"

    /// Names whose values are secrets, always applied; `redact:` in agent.yaml adds more.
    public static let defaultPatterns = [
        "*password*", "*passwd*", "*passphrase*", "*pwd*", "*secret*", "*token*", "*apikey*", "*accesskey*",
        "*privatekey*", "*credential*", "*authorization*", "auth", "pass", "passin", "passout",
    ]

    /// Programs whose one-letter option takes a secret, attached (`-pS3cret`) or as the
    /// next argument: matched on the start of argv[0]'s last path component.
    public static let secretShortOptions: [(program: String, option: UInt8)] = [
        ("mysql", UInt8(ascii: "p")), ("mariadb", UInt8(ascii: "p")), ("sshpass", UInt8(ascii: "p")),
        ("redis-cli", UInt8(ascii: "a")),
    ]

    let patterns: [KeyPattern]

    /// The default patterns and `extra` (from `redact:`); a pattern that is not a name
    /// with `*` wildcards is refused, saying why.
    public init(adding extra: [String]) throws(RedactionPatternError) {
        var patterns = Self.defaultPatterns.map { KeyPattern(validated: $0)! }
        for text in extra {
            guard let pattern = KeyPattern(validated: text) else { throw RedactionPatternError(pattern: text) }
            patterns.append(pattern)
        }
        self.patterns = patterns
    }

    /// With the default patterns only.
    public init() { patterns = Self.defaultPatterns.map { KeyPattern(validated: $0)! } }

    /// A command line with every secret value replaced.
    public func redact(arguments: [String]) -> [String] {
        guard let first = arguments.first else { return arguments }
        // Bytes, not Characters, here and below: an agent that reads every process's
        // arguments has no use for grapheme breaking.
        let program = first.utf8.split(separator: UInt8(ascii: "/")).last ?? first.utf8[...]
        let short = Self.secretShortOptions.first { program.starts(with: $0.program.utf8) }?.option
        var result = arguments
        var nextIsSecret = false
        for index in result.indices {
            if nextIsSecret {
                nextIsSecret = false
                if !result[index].isEmpty { result[index] = Self.marker }
                continue
            }
            (result[index], nextIsSecret) = redact(argument: result[index], shortOption: short)
        }
        return result
    }

    /// Any other text a process chose (its name, exe, a line quoted in a warning): the
    /// rules that need no neighbouring argument.
    public func redact(_ text: String) -> String {
        let bytes = Array(text.utf8)
        let cuts = SecretScan(bytes: bytes, patterns: patterns).cuts.sorted { $0.lowerBound < $1.lowerBound }
        guard !cuts.isEmpty else { return text }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var at = 0
        for cut in cuts {
            // Overlapping cuts become one: the marker already stands for the first.
            if cut.lowerBound >= at {
                out += bytes[at..<cut.lowerBound]
                out += Self.marker.utf8
            }
            at = max(at, cut.upperBound)
        }
        out += bytes[at...]
        return String(decoding: out, as: UTF8.self)
    }

    /// One argument, and whether the next one is a secret (`--token VALUE`).
    private func redact(argument: String, shortOption: UInt8?) -> (String, nextIsSecret: Bool) {
        let utf8 = argument.utf8
        guard utf8.first == UInt8(ascii: "-") else { return (redact(argument), false) }
        // `mysql -pS3cret` / `redis-cli -a S3cret`: only for the programs that mean it.
        if let shortOption, utf8.dropFirst().first == shortOption {
            if utf8.count == 2 { return (argument, true) }
            return (String(decoding: utf8.prefix(2), as: UTF8.self) + Self.marker, false)
        }
        // An option alone whose name is a secret's: its value is the next argument.
        if let name = KeyPattern.name(of: argument) {
            let normal = KeyPattern.normalize(name)
            if patterns.contains(where: { $0.matches(normal) }) { return (argument, true) }
        }
        return (redact(argument), false)
    }
}

/// A `redact:` entry that is not a name pattern.
public struct RedactionPatternError: Error, Equatable, CustomStringConvertible, Sendable {
    public let pattern: String
    public var description: String {
        "\"\(pattern)\" is not a redaction pattern: write an option or variable name, with * for any run of characters "
            + "(e.g. --db-pass, *_TOKEN, -Dapp.secret); letters, digits, \"-\", \"_\", \".\" and \"*\" only"
    }
}
