import EventLog
import Foundation
import Logging
import Synchronization
import Testing

/// One event, one line: whatever a host put in a message or a metadata value — newlines,
/// quotes, terminal escapes, a bidi override, text shaped like another field — stays
/// inside its quotes on that line.
struct EventLogTests {
    final class Lines: Sendable {
        private let lines = Mutex<[String]>([])
        func append(_ line: String) { lines.withLock { $0.append(line) } }
        var all: [String] { lines.withLock { $0 } }
    }

    func logger(_ format: LogFormat = .text, _ lines: Lines) -> Logger {
        Logger(label: "portwarden.test") { EventLogHandler(label: $0, format: format, write: lines.append) }
    }

    static let forged = "web-01\ntime=1999-12-31T00:00:00.000Z level=critical label=portwarden.serve msg=\"forged\""
    static let hostile: Logger.Metadata = [
        "host": "\(forged)", "reason": "say \"hi\"\r\n\u{1B}[2J\u{202E}", "owner": "x\" level=\"critical",
    ]

    @Test func anEventWithNewlinesInMessageAndMetadataIsOneLine() throws {
        let lines = Lines()
        logger(.text, lines).warning("refused a report from \(Self.forged)", metadata: Self.hostile)
        let line = try #require(lines.all.first)
        #expect(lines.all.count == 1)
        #expect(line.hasSuffix("\n") && line.dropLast().allSatisfy { !$0.isNewline }, "one line: \(line)")
        #expect(!line.unicodeScalars.contains { $0 == "\u{1B}" || $0 == "\u{202E}" || $0 == "\r" }, "\(line)")
        #expect(line.hasPrefix("time=") && line.contains(" level=warning event=message label=portwarden.test msg=\"refused a report from web-01\\ntime="))
        #expect(line.contains(#" host="web-01\ntime=1999-12-31T00:00:00.000Z level=critical label=portwarden.serve msg=\"forged\"""#))
        #expect(line.contains(#" owner="x\" level=\"critical""#), "a quote cannot end the value early: \(line)")
        #expect(line.contains(#" reason="say \"hi\"\r\n\x1b[2J\u202e""#), "\(line)")
    }

    /// Parsed back as logfmt: exactly the fields the call gave, each value as it was sent.
    @Test func theTextLineParsesBackToTheSameFields() throws {
        let lines = Lines()
        logger(.text, lines).error("refused", metadata: Self.hostile)
        var fields: [String: String] = [:]
        var rest = Substring(try #require(lines.all.first).dropLast())
        while !rest.isEmpty {
            let key = rest.prefix { $0 != "=" }
            rest = rest.dropFirst(key.count + 1)
            var value = ""
            if rest.first == "\"" {
                rest = rest.dropFirst()
                while let c = rest.first, c != "\"" {
                    rest = rest.dropFirst()
                    guard c == "\\", let e = rest.first else { value.append(c); continue }
                    rest = rest.dropFirst()
                    switch e {
                    case "n": value += "\n"
                    case "r": value += "\r"
                    case "t": value += "\t"
                    case "x", "u":
                        let digits = rest.prefix(e == "x" ? 2 : 4)
                        rest = rest.dropFirst(digits.count)
                        value.unicodeScalars.append(Unicode.Scalar(UInt32(digits, radix: 16)!)!)
                    default: value.append(e)
                    }
                }
                rest = rest.dropFirst()
            } else {
                value = String(rest.prefix { $0 != " " })
                rest = rest.dropFirst(value.count)
            }
            fields[String(key)] = value
            rest = rest.drop { $0 == " " }
        }
        #expect(Set(fields.keys) == ["time", "level", "event", "label", "msg", "host", "reason", "owner"])
        for (key, value) in Self.hostile { #expect(fields[key] == value.description, "\(key)") }
        #expect(fields["level"] == "error" && fields["msg"] == "refused")
    }

    @Test func keysCannotHoldASpaceAQuoteOrAnEqualsSign() {
        let lines = Lines()
        logger(.text, lines).info("x", metadata: ["a b=\"c\"\n": "1", "": "2"])
        #expect(lines.all.first?.hasSuffix(#" _="2" a_b__c__="1""# + "\n") == true, "\(lines.all)")
    }

    @Test func errorsAndTheHandlersOwnMetadataAreFields() {
        struct Refused: Error, CustomStringConvertible { var description: String { "line one\nline two" } }
        let lines = Lines()
        var log = logger(.text, lines)
        log[metadataKey: "host"] = "web-01"
        log.info("stored", metadata: ["host": "db-02"])
        log.logLevel = .warning
        log.info("not written")
        log.warning("failed", error: Refused())
        #expect(lines.all.count == 2)
        #expect(lines.all.first?.contains(#"msg="stored" host="db-02""#) == true, "the call's metadata wins: \(lines.all)")
        #expect(lines.all.last?.hasSuffix(#"msg="failed" error="line one\nline two" host="web-01""# + "\n") == true, "\(lines.all)")
    }

    @Test func jsonIsOneObjectPerLineWithTheSameValues() throws {
        let lines = Lines()
        logger(.json, lines).warning("refused a report from \(Self.forged)", metadata: Self.hostile)
        let line = try #require(lines.all.first)
        #expect(line.filter(\.isNewline).count == 1 && line.hasSuffix("\n"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
        #expect(object["level"] == "warning" && object["label"] == "portwarden.test" && object["time"] != nil)
        #expect(object["msg"] == "refused a report from \(Self.forged)")
        for (key, value) in Self.hostile { #expect(object[key] == value.description, "\(key)") }
    }
}
