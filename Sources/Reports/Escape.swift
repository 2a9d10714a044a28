import PortwardenModel

/// How text is written in each output a report has — one function per kind, and every
/// renderer calls these rather than its own. Names, command lines, units, labels and host
/// names come from the hosts being audited: in every output they are data, never markup,
/// a formula or a terminal control.
enum Escape {
    /// Plain text for a terminal: controls and bidi characters shown escaped (`\x1b`).
    static func terminal(_ text: String) -> String { VisibleText.escaped(text) }

    /// Text inside a Markdown line or table cell: controls shown escaped, HTML's `<`, `>`
    /// and `&` as entities, and the characters that would start a link, an image, emphasis,
    /// code or strike-through, or end a table cell, escaped with a backslash (`![` is no
    /// image once `[` is escaped). Host text is never at the start of a line, so headings,
    /// lists and quotes need nothing.
    static func markdown(_ text: String) -> String {
        replacing(in: VisibleText.escaped(text)) { scalar in
            switch scalar {
            case "<": "&lt;"
            case ">": "&gt;"
            case "&": "&amp;"
            case "\\", "`", "*", "_", "~", "[", "]", "|": "\\" + String(scalar)
            default: nil
            }
        }
    }

    /// Text for HTML, in an element or a quoted attribute: controls shown escaped (a
    /// browser honours bidi overrides too), then the five characters that could end it early.
    static func html(_ text: String) -> String {
        replacing(in: VisibleText.escaped(text)) { scalar in
            switch scalar {
            case "&": "&amp;"
            case "<": "&lt;"
            case ">": "&gt;"
            case "\"": "&quot;"
            case "'": "&#39;"
            default: nil
            }
        }
    }

    /// A CSV text cell, before RFC 4180 quoting: one that a spreadsheet would take for a
    /// formula gets a leading `'`, which spreadsheets read as "this is text". A formula is
    /// what begins with `=`, `+`, `-`, `@`, tab or CR (OWASP's list) or NUL (ASVS's) — or
    /// with one of those behind what a spreadsheet skips or a reader cannot see: spaces
    /// (no-break ones too), line breaks, zero-width characters, a byte-order mark; and the
    /// full-width `＝＋－＠` that some spreadsheets read as their ASCII twins.
    /// Numbers are written by `Cell`, never through here, so `-5` stays a number.
    static func spreadsheet(_ text: String) -> String {
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x3D, 0x2B, 0x2D, 0x40, 0x09, 0x0D, 0x00, 0xFF1D, 0xFF0B, 0xFF0D, 0xFF20: return "'" + text
            default:
                // Looked past — spaces, controls (ESC, NEL), bidi and zero-width marks, a
                // BOM: what a spreadsheet trims or does not show; the cell is a formula if
                // what follows is.
                let properties = scalar.properties
                if properties.isWhitespace || properties.generalCategory == .control || properties.generalCategory == .format {
                    continue
                }
                return text
            }
        }
        return text
    }

    /// `text` with each scalar that `replacement` has a replacement for replaced. Scalars,
    /// not Characters: a parser reads `[` followed by a combining accent as a `[`, while
    /// Swift sees one Character that is not `"["`.
    private static func replacing(in text: String, _ replacement: (Unicode.Scalar) -> String?) -> String {
        guard text.unicodeScalars.contains(where: { replacement($0) != nil }) else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 16)
        for scalar in text.unicodeScalars {
            if let replaced = replacement(scalar) { out += replaced } else { out.unicodeScalars.append(scalar) }
        }
        return out
    }
}
