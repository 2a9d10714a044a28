import Logging
import PortwardenModel

/// How one event becomes one line. `text`: `time=… level=… event=… label=… msg="…" key="value" …`
/// (logfmt: the message and every field's value quoted and escaped, `VisibleText.quoted`);
/// `json`: one object per line with the same keys (`JSONWriter` escapes).
public enum LogFormat: String, CaseIterable, Sendable {
    case text, json

    /// The keys every line has, in this order; a field of the same name is written with a
    /// `_` after it, so a JSON line never holds a key twice.
    static let reserved: Set<String> = ["time", "level", "event", "label", "msg"]

    /// The line for one event, newline included. `fields` keep their order.
    public func line(time: String, level: Logger.Level, event: String, label: String, message: String,
                     fields: [(String, String)]) -> String {
        switch self {
        case .text:
            var line = "time=\(time) level=\(level.rawValue) event=\(Self.bare(event)) label=\(Self.bare(label)) "
                + "msg=\(VisibleText.quoted(message))"
            for (key, value) in fields { line += " \(Self.fieldKey(key))=\(VisibleText.quoted(value))" }
            return line + "\n"
        case .json:
            var w = JSONWriter()
            w.beginObject()
            w.key("time"); w.value(time)
            w.key("level"); w.value(level.rawValue)
            w.key("event"); w.value(event)
            w.key("label"); w.value(label)
            w.key("msg"); w.value(message)
            for (key, value) in fields { w.key(Self.fieldKey(key)); w.value(value) }
            w.endObject()
            w.endLine()
            return String(decoding: w.buffer, as: UTF8.self)
        }
    }

    /// A field's key as written: `key(_:)`, and not one of the keys every line has.
    static func fieldKey(_ key: String) -> String {
        let plain = Self.key(key)
        return reserved.contains(plain) ? plain + "_" : plain
    }

    /// A metadata key as written: letters, digits, `_`, `.` and `-`; anything else becomes
    /// `_`, so a key cannot hold a space, a quote or an `=`.
    static func key(_ key: String) -> String {
        var plain = ""
        plain.unicodeScalars.append(contentsOf: key.unicodeScalars.map { isPlain($0) ? $0 : "_" })
        return plain.isEmpty ? "_" : plain
    }

    /// A label bare when it is plain (`portwarden.serve`), quoted otherwise.
    private static func bare(_ text: String) -> String {
        !text.isEmpty && text.unicodeScalars.allSatisfy(isPlain) ? text : VisibleText.quoted(text)
    }

    private static func isPlain(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "a"..."z", "A"..."Z", "0"..."9", "_", ".", "-": true
        default: false
        }
    }
}
