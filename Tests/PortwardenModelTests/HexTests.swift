import PortwardenModel
import Testing

/// The one hex encoder: digests, fingerprints and secrets are compared as these strings.
struct HexTests {
    @Test func everyByteIsTwoLowercaseDigits() {
        #expect([UInt8]().lowercaseHex == "")
        #expect([0x00, 0x01, 0x0f, 0x10, 0xa0, 0xfe, 0xff].lowercaseHex == "00010f10a0feff")
        let all = (0...255).map(UInt8.init).lowercaseHex
        #expect(all.count == 512 && all.allSatisfy { "0123456789abcdef".contains($0) })
    }

    @Test func digitsArePaddedToTheWidthAndNeverCut() {
        #expect(Hex.digits(0, width: 2) == "00")
        #expect(Hex.digits(0x7, width: 2) == "07")
        #expect(Hex.digits(0x7f, width: 2) == "7f")
        #expect(Hex.digits(0x85, width: 4) == "0085")
        #expect(Hex.digits(0x1f600, width: 4) == "1f600", "a scalar past U+FFFF keeps all its digits")
        #expect(Hex.digits(UInt32.max, width: 0) == "ffffffff")
    }
}
