import ConfigFile
import PortwardenModel
import Testing

/// One duration syntax for every flag and key.
struct SecondsTests {
    @Test(arguments: [("90", 90), ("90s", 90), ("15m", 900), ("12h", 43_200), ("7d", 604_800), ("2w", 1_209_600), ("1_000", 1_000)])
    func durationsReadAsSeconds(text: String, seconds: Int) {
        #expect(Seconds(text)?.value == seconds)
    }

    @Test(arguments: ["", "s", "-5m", "1.5h", "5 m", "5y", "m5", "99999999999999999999w", "٣m"])
    func whatIsNotADurationIsRefused(text: String) {
        #expect(Seconds(text) == nil)
    }

    @Test func durationsPrintInTheirLargestWholeUnit() {
        #expect([90, 900, 86_400, 300, 0, 1_209_600].map { Seconds($0).description } == ["90s", "15m", "1d", "5m", "0s", "2w"])
    }

    @Test func aConfigKeyOutOfRangeSaysWhatItTakes() throws {
        let file = try ConfigDocument(text: "skew: 2h\nbad: soon\n", file: "c.yaml")
        #expect(try file.seconds("skew", in: 1...86_400) == Seconds(7_200))
        #expect(throws: ConfigError.self) { try file.seconds("bad", in: 1...86_400) }
        do { _ = try file.seconds("skew", in: 1...3_600) } catch {
            #expect(error.description.contains("from 1s to 1h") && error.description.contains("c.yaml:1"), "\(error)")
        }
    }
}
