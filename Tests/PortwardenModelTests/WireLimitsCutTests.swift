import Testing
import PortwardenModel

/// The one cut every string and command line of a report goes through: exactly at the
/// bound, marker included, never half a character.
struct WireLimitsCutTests {
    let marker = WireLimits.truncationMarker
    let bound = WireLimits.stringBytes

    @Test func aStringAtTheBoundIsKept() {
        let text = String(repeating: "a", count: bound)
        #expect(WireLimits.cut(text) == text)
        #expect(WireLimits.cut("") == "")
    }

    @Test func oneByteOverIsCutToExactlyTheBoundWithTheMarker() {
        let cut = WireLimits.cut(String(repeating: "a", count: bound + 1))
        #expect(cut.utf8.count == bound)
        #expect(cut.hasSuffix(marker))
        #expect(cut == String(repeating: "a", count: bound - marker.utf8.count) + marker)
    }

    @Test func aCharacterStraddlingTheCutIsLeftOutWhole() {
        // The 3-byte "€" would occupy the last kept byte and the two after it.
        let keep = bound - marker.utf8.count
        let text = String(repeating: "a", count: keep - 1) + "€" + String(repeating: "b", count: 100)
        let cut = WireLimits.cut(text)
        #expect(cut == String(repeating: "a", count: keep - 1) + marker)
        #expect(cut.utf8.count <= bound)
        #expect(!cut.unicodeScalars.contains("\u{FFFD}"))
    }

    @Test func aMegabyteStringIsCutToTheBound() {
        let cut = WireLimits.cut(String(repeating: "é", count: 1 << 19))
        #expect(cut.utf8.count <= bound && cut.utf8.count >= bound - 1)
        #expect(cut.hasSuffix(marker))
    }

    @Test func aCommandLineAtTheBoundIsKept() {
        // Arguments and a NUL after each: 4,000 + 1 + 94 + 1 = 4,096.
        let arguments = [String(repeating: "x", count: 4_000), String(repeating: "y", count: 94)]
        #expect(WireLimits.size(ofArguments: arguments) == WireLimits.cmdlineBytes)
        #expect(WireLimits.cut(arguments: arguments) == arguments)
    }

    @Test func aCommandLineOneByteOverEndsWithTheMarkerAsItsLastArgument() {
        let arguments = [String(repeating: "x", count: 4_000), String(repeating: "y", count: 95)]
        let cut = WireLimits.cut(arguments: arguments)
        #expect(WireLimits.size(ofArguments: cut) == WireLimits.cmdlineBytes)
        #expect(cut.last == marker)
        #expect(cut == [arguments[0], String(repeating: "y", count: 79), marker])
    }

    @Test func wholeArgumentsAreKeptAndTheNextIsCutOnACharacter() {
        // 13 + 4 bytes before the class path leave an odd 4,063 for it: ü is two bytes.
        let arguments = ["/opt/jdk/jvm", "-cp", String(repeating: "ü", count: 5_000), "Main"]
        let cut = WireLimits.cut(arguments: arguments)
        #expect(cut.count == 4 && cut[0] == "/opt/jdk/jvm" && cut[1] == "-cp" && cut[3] == marker)
        #expect(cut[2].allSatisfy { $0 == "ü" })
        #expect(WireLimits.size(ofArguments: cut) <= WireLimits.cmdlineBytes)
        #expect(WireLimits.size(ofArguments: cut) == WireLimits.cmdlineBytes - 1, "one byte short: ü is two")
    }

    @Test func aCommandLineKnownToGoOnGetsTheMarkerEvenWhenWhatWasReadFits() {
        #expect(WireLimits.cut(arguments: ["nginx", "-g"], knownLonger: true) == ["nginx", "-g", marker])
        #expect(WireLimits.cut(arguments: [], knownLonger: true) == [marker])
    }
}
