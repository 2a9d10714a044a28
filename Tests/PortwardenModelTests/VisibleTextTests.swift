import PortwardenModel
import Testing

/// The one rule for showing a host's text as plain text (tables, logs).
struct VisibleTextTests {
    @Test func everyControlAndBidiCharacterIsShownEscaped() {
        #expect(VisibleText.escaped("a\u{1B}[2J\u{07}\u{0}\u{7F}") == #"a\x1b[2J\x07\x00\x7f"#)
        #expect(VisibleText.escaped("csi\u{9B}31m nel\u{85}") == #"csi\u009b31m nel\u0085"#, "C1 controls")
        #expect(VisibleText.escaped("\u{202A}\u{202E}\u{2066}\u{2069}\u{200F}\u{061C}\u{2028}") == #"\u202a\u202e\u2066\u2069\u200f\u061c\u2028"#)
        #expect(VisibleText.escaped("line\nnext\r\ttab") == #"line\nnext\r\ttab"#)
        #expect(VisibleText.escaped("usage:\n  x\u{1B}", keepingLineBreaks: true) == "usage:\n  x\\x1b")
    }

    @Test func printableTextIsLeftAsItIs() {
        for text in ["sshd (root)", "café ünïcödé 日本語 🙂", #"C:\path "quoted""#, ""] {
            #expect(VisibleText.escaped(text) == text)
        }
    }

    @Test func aQuotedValueCannotEndEarly() {
        #expect(VisibleText.quoted(#"x" level="critical"#) == #""x\" level=\"critical""#)
        #expect(VisibleText.quoted("a\\b\n\u{202E}") == #""a\\b\n\u202e""#)
    }
}
