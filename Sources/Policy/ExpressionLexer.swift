/// A token of the condition language, with its offset (in Unicode scalars) inside the
/// condition text so errors can point at it.
struct Token: Equatable {
    enum Kind: Equatable {
        case word, string, leftParen, rightParen, leftBracket, rightBracket, comma, end
        case op(Comparison)
    }

    var kind: Kind
    var text: String
    var offset: Int

    func isWord(_ keyword: String) -> Bool { kind == .word && text == keyword }

    /// How the token reads in a message: `'port'`, `"rpc*"`, or "the end of the condition".
    var quoted: String {
        switch kind {
        case .end: "the end of the condition"
        case .string: "\"\(text)\""
        default: "'\(text)'"
        }
    }
}

enum Comparison: String, CaseIterable {
    case equal = "==", notEqual = "!=", match = "~", notMatch = "!~"
    case less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
}

/// Why a condition could not be read, and where (a scalar offset into its text).
struct ExpressionError: Error, Equatable {
    var offset: Int
    var message: String
}

/// Splits a condition into tokens. Words run over letters, digits and `. _ - / : * ? @ + %`
/// so that `10.0.0.0/8`, `fe80::/10`, `512..514` and `rpc*` need no quotes.
enum ExpressionLexer {
    static func tokens(_ text: String) throws(ExpressionError) -> [Token] {
        let s = Array(text.unicodeScalars)
        var tokens: [Token] = []
        var i = 0
        func isWordScalar(_ c: Unicode.Scalar) -> Bool {
            if c.value >= 0x80 { return c.properties.isAlphabetic || c.properties.numericType != nil }
            return (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || "._-/:*?@+%".unicodeScalars.contains(c)
        }
        while i < s.count {
            let c = s[i]
            let start = i
            switch c {
            case " ", "\t", "\n", "\r":
                i += 1
            case "(": tokens.append(Token(kind: .leftParen, text: "(", offset: i)); i += 1
            case ")": tokens.append(Token(kind: .rightParen, text: ")", offset: i)); i += 1
            case "[": tokens.append(Token(kind: .leftBracket, text: "[", offset: i)); i += 1
            case "]": tokens.append(Token(kind: .rightBracket, text: "]", offset: i)); i += 1
            case ",": tokens.append(Token(kind: .comma, text: ",", offset: i)); i += 1
            case "\"", "'":
                var value = String.UnicodeScalarView()
                i += 1
                while i < s.count, s[i] != c {
                    // A backslash keeps the next character, so "a\"b" and "\\" work.
                    if s[i] == "\\", i + 1 < s.count { i += 1 }
                    value.append(s[i])
                    i += 1
                }
                guard i < s.count else { throw ExpressionError(offset: start, message: "this string is never closed: expected \(c) before the end") }
                i += 1
                tokens.append(Token(kind: .string, text: String(value), offset: start))
            case "=", "!", "~", "<", ">", "&", "|":
                let two = i + 1 < s.count ? String(String.UnicodeScalarView([c, s[i + 1]])) : ""
                if let op = Comparison(rawValue: two) {
                    tokens.append(Token(kind: .op(op), text: two, offset: i)); i += 2
                } else if let op = Comparison(rawValue: String(c)) {
                    tokens.append(Token(kind: .op(op), text: String(c), offset: i)); i += 1
                } else {
                    let hint = switch c {
                    case "=": "to compare, write '=='"
                    case "!": "write 'not' to negate, or '!=' / '!~' to compare"
                    case "&": "write 'and'"
                    default: "write 'or'"
                    }
                    throw ExpressionError(offset: i, message: "unexpected '\(c)': \(hint)")
                }
            default:
                guard isWordScalar(c) else {
                    throw ExpressionError(offset: i, message: "unexpected character '\(c)': expected a field, a value, an operator or a parenthesis")
                }
                while i < s.count, isWordScalar(s[i]) { i += 1 }
                tokens.append(Token(kind: .word, text: String(String.UnicodeScalarView(s[start..<i])), offset: start))
            }
        }
        tokens.append(Token(kind: .end, text: "", offset: s.count))
        return tokens
    }
}
