/// The one hex encoder, lowercase: digests, fingerprints and secrets (two digits a byte),
/// and the `\u00XX`/`\xXX` escapes of JSON and shown host text. Here, in the module
/// everything reaches, so the OpenSSL modules and the wire writer print hex alike.
public enum Hex {
    /// The ASCII digit for `nibble` (0...15).
    @inlinable
    public static func digit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") - 10 + nibble
    }

    /// `value` in hex, zero-padded to at least `width` digits: `digits(0x7, width: 2)` is "07".
    public static func digits(_ value: UInt32, width: Int) -> String {
        var reversed: [UInt8] = []
        var rest = value
        repeat {
            reversed.append(digit(UInt8(rest & 15)))
            rest >>= 4
        } while rest != 0
        while reversed.count < width { reversed.append(UInt8(ascii: "0")) }
        return String(decoding: reversed.reversed(), as: UTF8.self)
    }
}

extension Sequence<UInt8> {
    /// Two lowercase hex digits a byte: fingerprints, digests, secrets.
    public var lowercaseHex: String {
        var text: [UInt8] = []
        text.reserveCapacity(underestimatedCount * 2)
        for byte in self {
            text.append(Hex.digit(byte >> 4))
            text.append(Hex.digit(byte & 15))
        }
        return String(decoding: text, as: UTF8.self)
    }
}
