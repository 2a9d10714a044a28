/// Finds the secret values in one piece of text, as byte ranges to replace:
/// - `KEY=VALUE` where KEY is a secret's name: at the start of the text VALUE is the rest
///   of it (`--password=…`, `PGPASSWORD=…`); further in it ends at a space, `&`, `;` or
///   `,` (`host=db password=… port=5432`, `?access_token=…&`), or at its closing quote;
/// - `KEY: VALUE` at the start (`Authorization: Bearer …`), and further in `"KEY": VALUE`,
///   `'KEY': VALUE` or `KEY: VALUE` (JSON, a Python dict, a JavaScript object);
/// - the password in a URL's userinfo (`scheme://user:…@host`), or the whole userinfo
///   when it has no password (a token used as the user name).
struct SecretScan {
    private(set) var cuts: [Range<Int>] = []
    private let bytes: [UInt8]
    private let patterns: [KeyPattern]

    init(bytes: [UInt8], patterns: [KeyPattern]) {
        self.bytes = bytes
        self.patterns = patterns
        if startKey() { return }
        // Text already cut is not scanned again: each byte is looked at a bounded number
        // of times, whatever a hostile command line repeats.
        for index in bytes.indices where index >= (cuts.last?.upperBound ?? 0) {
            switch bytes[index] {
            case UInt8(ascii: "="): assignment(at: index)
            case UInt8(ascii: ":"):
                if index + 2 < bytes.count, bytes[index + 1] == UInt8(ascii: "/"), bytes[index + 2] == UInt8(ascii: "/") {
                    userinfo(after: index + 3)
                } else {
                    pair(at: index)
                }
            default: break
            }
        }
    }

    private func isSecret(_ key: Range<Int>) -> Bool {
        guard !key.isEmpty, key.count <= KeyPattern.longestName else { return false }
        let normal = KeyPattern.normalize(bytes[key])
        // `-Dapp.secret=…`: a Java system property is named without its `-D`.
        if bytes[key].starts(with: [UInt8(ascii: "-"), UInt8(ascii: "D")]),
           patterns.contains(where: { $0.matches(KeyPattern.normalize(bytes[(key.lowerBound + 2)..<key.upperBound])) }) {
            return true
        }
        return patterns.contains { $0.matches(normal) }
    }

    /// `KEY=…` or `KEY: …` opening the text: the rest is the secret.
    private mutating func startKey() -> Bool {
        var end = 0
        while end < bytes.count, KeyPattern.isNameByte(bytes[end]) { end += 1 }
        guard end < bytes.count, bytes[end] == UInt8(ascii: "=") || bytes[end] == UInt8(ascii: ":"),
              isSecret(0..<end)
        else { return false }
        var value = end + 1
        if bytes[end] == UInt8(ascii: ":") { while value < bytes.count, bytes[value] == UInt8(ascii: " ") { value += 1 } }
        if value < bytes.count { cuts.append(value..<bytes.count) }
        return true
    }

    /// `KEY=VALUE` further in.
    private mutating func assignment(at equals: Int) {
        var start = equals
        while start > 0, KeyPattern.isNameByte(bytes[start - 1]) { start -= 1 }
        guard isSecret(start..<equals) else { return }
        let value = valueRange(from: equals + 1)
        if !value.isEmpty { cuts.append(value) }
    }

    /// `"KEY": VALUE`, `'KEY': VALUE` or `KEY: VALUE` further in: JSON, a Python dict, a
    /// JavaScript object or a YAML flow mapping. A bare key stands after `{`, `,`, `(`,
    /// `[`, a space, `=` or a quote that opens a string (`--header="Authorization: …"`),
    /// so `/etc/secret:/x` is no key. The value is quoted, or runs to a space, `,`, `;`,
    /// `&` or a closing bracket — a header's (Authorization, Cookie) to the end of its string.
    private mutating func pair(at colon: Int) {
        var close = colon
        while close > 0, bytes[close - 1] == UInt8(ascii: " ") { close -= 1 }
        guard close > 0 else { return }
        let quote = bytes[close - 1]
        let quoted = quote == UInt8(ascii: "\"") || quote == UInt8(ascii: "'")
        let end = quoted ? close - 1 : close
        var start = end
        while start > 0, KeyPattern.isNameByte(bytes[start - 1]) { start -= 1 }
        if quoted {
            guard start > 0, bytes[start - 1] == quote else { return }
        } else {
            guard start > 0, Self.opensBareKey(bytes[start - 1]) else { return }
        }
        guard isSecret(start..<end) else { return }
        var open = colon + 1
        while open < bytes.count, bytes[open] == UInt8(ascii: " ") { open += 1 }
        guard open < bytes.count else { return }
        let value: Range<Int>
        if bytes[open] == UInt8(ascii: "\"") || bytes[open] == UInt8(ascii: "'") {
            value = valueRange(from: open)
        } else if !quoted, Self.isHeader(KeyPattern.normalize(bytes[start..<end])) {
            // `Authorization: Bearer abc` inside a longer text (`sh -c 'curl -H "…"'`):
            // a scheme and its credentials, or cookies, to the closing quote or the end.
            value = headerValueRange(from: open, closedBy: bytes[start - 1])
        } else {
            value = bareValueRange(from: open)
        }
        if !value.isEmpty { cuts.append(value) }
    }

    /// Headers whose whole value is the secret, spaces and `;` included.
    private static func isHeader(_ normal: [UInt8]) -> Bool {
        ["authorization", "cookie"].contains { normal.suffix($0.utf8.count).elementsEqual($0.utf8) }
    }

    /// A header's value: to the quote the header was opened with, or the end of the text.
    private func headerValueRange(from start: Int, closedBy opener: UInt8) -> Range<Int> {
        let quote = opener == UInt8(ascii: "\"") || opener == UInt8(ascii: "'") ? opener : nil
        var end = start
        while end < bytes.count, bytes[end] != quote { end += 1 }
        return start..<end
    }

    private static func opensBareKey(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "{"), UInt8(ascii: ","), UInt8(ascii: "("), UInt8(ascii: "["), UInt8(ascii: " "), UInt8(ascii: "\t"),
             UInt8(ascii: "="), UInt8(ascii: "\""), UInt8(ascii: "'"): true
        default: false
        }
    }

    /// An unquoted value after `KEY:`: to the next delimiter or closing bracket.
    private func bareValueRange(from start: Int) -> Range<Int> {
        var end = start
        while end < bytes.count, !Self.endsValue(bytes[end]), bytes[end] != UInt8(ascii: "}"), bytes[end] != UInt8(ascii: "]"),
              bytes[end] != UInt8(ascii: ")") { end += 1 }
        return start..<end
    }

    /// From `start` to the next delimiter, or inside the quotes when the value is quoted.
    private func valueRange(from start: Int) -> Range<Int> {
        guard start < bytes.count else { return start..<start }
        let quote = bytes[start]
        if quote == UInt8(ascii: "\"") || quote == UInt8(ascii: "'") {
            var end = start + 1
            while end < bytes.count, bytes[end] != quote {
                end += bytes[end] == UInt8(ascii: "\\") ? 2 : 1
            }
            return (start + 1)..<min(end, bytes.count)
        }
        var end = start
        while end < bytes.count, !Self.endsValue(bytes[end]) { end += 1 }
        return start..<end
    }

    private static func endsValue(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"),
             UInt8(ascii: "&"), UInt8(ascii: ";"), UInt8(ascii: ","): true
        default: false
        }
    }

    /// `scheme://userinfo@host…`: the authority ends at `/`, `?`, `#` or a space; the
    /// userinfo at its last `@` (an unescaped `@` in a password goes with the password).
    private mutating func userinfo(after start: Int) {
        var end = start, at: Int?
        while end < bytes.count {
            let byte = bytes[end]
            if byte == UInt8(ascii: "/") || byte == UInt8(ascii: "?") || byte == UInt8(ascii: "#") || Self.isSpace(byte) { break }
            if byte == UInt8(ascii: "@") { at = end }
            end += 1
        }
        guard let at, at > start else { return }
        if let colon = bytes[start..<at].firstIndex(of: UInt8(ascii: ":")) {
            if colon + 1 < at { cuts.append((colon + 1)..<at) }
        } else {
            cuts.append(start..<at)
        }
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r")
    }
}
