import ArgumentParser
import EventLog
import Foundation
import Logging
import Testing

/// Every line names its event at the front, in both formats; a field cannot pose as one of
/// the keys every line has; the flags parse as the help says.
struct EventFieldTests {
    typealias Lines = EventLogTests.Lines

    func logger(_ format: LogFormat, _ lines: Lines) -> Logger {
        Logger(label: "portwarden.test") { EventLogHandler(label: $0, format: format, write: lines.append) }
    }

    @Test func theEventIsTakenFromTheFieldsAndWrittenAfterTheLevel() throws {
        let lines = Lines()
        logger(.text, lines).warning("refused", metadata: ["event": "report_refused", "host": "web-01"])
        logger(.text, lines).info("plain")
        #expect(lines.all.first?.contains(#" level=warning event=report_refused label=portwarden.test msg="refused" host="web-01""#) == true,
                "\(lines.all)")
        #expect(lines.all.first?.contains(#"event=""#) == false, "the event is not repeated as a field: \(lines.all)")
        #expect(lines.all.last?.contains(" event=\(EventLogHandler.plainEvent) ") == true, "\(lines.all)")
    }

    @Test func aFieldNamedLikeALineKeyKeepsItsValueUnderAnotherName() throws {
        let lines = Lines()
        logger(.json, lines).error("x", metadata: ["event": "e", "time": "forged", "level": "debug", "msg": "m", "label": "l"])
        let line = try #require(lines.all.first)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
        #expect(object["event"] == "e" && object["level"] == "error" && object["msg"] == "x" && object["label"] == "portwarden.test")
        #expect(object["time"] != "forged" && object["time_"] == "forged" && object["level_"] == "debug")
        #expect(object["msg_"] == "m" && object["label_"] == "l")
        // Each key once: the text a JSON parser keeps for a repeated key would be its choice.
        for key in ["time", "level", "event", "msg", "label"] {
            #expect(line.components(separatedBy: "\"\(key)\":").count == 2, "\(key) once: \(line)")
        }
    }

    @Test func theFlagsParseAndRefuseWhatTheyDoNotKnow() throws {
        let defaults = try LogOptions.parse([])
        #expect(defaults.logFormat == .text && defaults.logLevel == .info)
        let given = try LogOptions.parse(["--log-format", "json", "--log-level", "debug"])
        #expect(given.logFormat == .json && given.logLevel == .debug)
        #expect(throws: (any Error).self) { try LogOptions.parse(["--log-format", "yaml"]) }
        #expect(throws: (any Error).self) { try LogOptions.parse(["--log-level", "verbose"]) }
    }
}
