/// Text that came from a host, made safe to show as plain text. A host's processes choose
/// their names, command lines and units, so none of it may move a terminal's cursor,
/// recolour it, retitle it, reorder what follows (bidi controls: "Trojan Source") or start
/// a line of its own — in the agent's table, the collector's tables or its log lines.
/// The other outputs (Markdown, HTML, CSV) build on this one rule (Reports' `Escape`).
public enum VisibleText {
    /// Characters never written raw: C0 controls (tab and line breaks included), DEL, C1
    /// controls (U+009B is a CSI to many terminals), the bidi marks, embeddings,
    /// overrides and isolates, and the Unicode line and paragraph separators.
    public static func isHidden(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F, 0x061C, 0x200E, 0x200F, 0x2028...0x202E, 0x2066...0x2069: true
        default: false
        }
    }

    /// `text` with each hidden character written as an escape a person can read — `\n`,
    /// `\r`, `\t`, `\x1b`, `\u202e` — and everything else as it was. A backslash stays
    /// single: tables are for reading, not for parsing back. `keepingLineBreaks` leaves
    /// `\n` raw, for a message whose lines are ours (an error followed by its usage).
    public static func escaped(_ text: String, keepingLineBreaks: Bool = false) -> String {
        guard text.unicodeScalars.contains(where: { isHidden($0) && !(keepingLineBreaks && $0 == "\n") }) else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 16)
        for scalar in text.unicodeScalars {
            if keepingLineBreaks && scalar == "\n" || !isHidden(scalar) {
                out.unicodeScalars.append(scalar)
            } else {
                appendEscape(scalar, to: &out)
            }
        }
        return out
    }

    /// A log field's value in double quotes: hidden characters escaped as by `escaped`,
    /// and `"` and `\` escaped too, so a value can neither end its quotes early nor pass
    /// for a field of its own.
    public static func quoted(_ text: String) -> String {
        var out = "\""
        out.reserveCapacity(text.utf8.count + 2)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where isHidden(scalar): appendEscape(scalar, to: &out)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    private static func appendEscape(_ scalar: Unicode.Scalar, to out: inout String) {
        switch scalar {
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            out += scalar.value < 0x80 ? "\\x" + Hex.digits(scalar.value, width: 2) : "\\u" + Hex.digits(scalar.value, width: 4)
        }
    }
}
