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
    /// `*pass` takes every name ending in pass (`--requirepass`, `-storepass`, `--db-pass`)
    /// and so also `--bypass VALUE`: hiding a value that was not secret costs less than
    /// sending one that was. `--bypass-cache`, `--passive` and `--passes` stay.
    public static let defaultPatterns = [
        "*passw*", "*passphrase*", "*pass", "passin", "passout", "*pwd*", "*pw", "*psk", "*secret*", "*token*",
        "*apikey*", "*accesskey*", "*privatekey*", "*credential*", "*authorization*", "auth", "masterauth", "*cookie",
        "*authkey", "*accountkey", "*masterkey", "*bearer",
    ]

    /// What a program's own option holds: a secret, or `user:secret`.
    public enum OptionValue: Sendable {
        case secret
        case userAndSecret
    }

    /// Options that hold a secret only for their programs (matched on the start of argv[0]'s
    /// last path component): elsewhere `-p` is a port and `--user` a name. A short option's
    /// value is attached (`-pS3cret`) or the next argument; a long one's after `=` or next.
    public static let programOptions: [(program: String, option: String, value: OptionValue)] = [
        ("mysql", "-p", .secret), ("mariadb", "-p", .secret), ("sshpass", "-p", .secret), ("redis-cli", "-a", .secret),
        ("curl", "-u", .userAndSecret), ("curl", "--user", .userAndSecret),
        ("curl", "-U", .userAndSecret), ("curl", "--proxy-user", .userAndSecret),
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
        let options = Self.programOptions.filter { program.starts(with: $0.program.utf8) }
        var result = arguments
        var next: OptionValue?
        for index in result.indices {
            if let value = next {
                next = nil
                result[index] = Self.redact(result[index], as: value)
                continue
            }
            (result[index], next) = redact(argument: result[index], options: options)
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

    /// One argument, and what the next one holds when it is this one's value (`--token VALUE`).
    private func redact(argument: String, options: [(program: String, option: String, value: OptionValue)])
        -> (String, next: OptionValue?)
    {
        let utf8 = argument.utf8
        guard utf8.first == UInt8(ascii: "-") else {
            // `password:` alone, as a header or YAML writes it: the value is the next argument.
            if utf8.last == UInt8(ascii: ":"), isSecretName(utf8.dropLast()) { return (argument, .secret) }
            return (redact(argument), nil)
        }
        // `mysql -pS3cret`, `redis-cli -a S3cret`, `curl -u user:S3cret`: only for the programs that mean it.
        for (_, option, value) in options where utf8.starts(with: option.utf8) {
            let rest = utf8.dropFirst(option.utf8.count)
            if rest.isEmpty { return (argument, value) }
            let long = option.utf8.count > 2
            // A long option's value follows `=`; `--users` is another option.
            if long && rest.first != UInt8(ascii: "=") { continue }
            let name = option.utf8.count + (long ? 1 : 0)
            return (String(decoding: utf8.prefix(name), as: UTF8.self)
                    + Self.redact(String(decoding: utf8.dropFirst(name), as: UTF8.self), as: value), nil)
        }
        // Short flags bundled, the one taking a value last: `curl -fsSLu user:S3cret`.
        for (_, option, value) in options where option.utf8.count == 2 && utf8.count > 2
            && utf8.last == option.utf8.last && utf8.dropFirst().allSatisfy(Self.isLetter) {
            return (argument, value)
        }
        // An option alone whose name is a secret's: its value is the next argument.
        if KeyPattern.name(of: argument) != nil, isSecretName(utf8) { return (argument, .secret) }
        return (redact(argument), nil)
    }

    private func isSecretName(_ name: some Collection<UInt8>) -> Bool {
        guard name.count <= KeyPattern.longestName, name.allSatisfy(KeyPattern.isNameByte) else { return false }
        let normal = KeyPattern.normalize(name)
        return !normal.isEmpty && patterns.contains { $0.matches(normal) }
    }

    private static func isLetter(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20)
    }

    /// An option's value: all of it, or what follows the user name's `:`. With nothing
    /// after the `:` the user name is the secret (`curl -u sk_live_…:`, an API key); with
    /// no `:` there is no secret on the command line (curl asks for it). An empty value
    /// stays empty.
    private static func redact(_ value: String, as kind: OptionValue) -> String {
        guard !value.isEmpty else { return value }
        switch kind {
        case .secret:
            return marker
        case .userAndSecret:
            let utf8 = value.utf8
            guard let colon = utf8.firstIndex(of: UInt8(ascii: ":")) else { return value }
            if utf8.index(after: colon) == utf8.endIndex { return colon == utf8.startIndex ? value : marker + ":" }
            return String(decoding: utf8[...colon], as: UTF8.self) + marker
        }
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
