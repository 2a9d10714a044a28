import Foundation

/// A statement parameter, sent in PostgreSQL's text form with its type, so the server
/// never guesses (`$1 IS NULL` needs a type) and never reads a value as SQL.
public protocol PGParameter {
    /// The text form; nil for NULL.
    var pgText: String? { get }
    /// The type's OID (int8, text, bool, float8, bytea); 0 lets the server infer it.
    static var pgType: UInt32 { get }
}

extension Int64: PGParameter {
    public var pgText: String? { String(self) }
    public static var pgType: UInt32 { 20 }
}

extension Int: PGParameter {
    public var pgText: String? { String(self) }
    public static var pgType: UInt32 { 20 }
}

extension Int32: PGParameter {
    public var pgText: String? { String(self) }
    public static var pgType: UInt32 { 20 }
}

extension String: PGParameter {
    public var pgText: String? { self }
    public static var pgType: UInt32 { 25 }
}

extension Substring: PGParameter {
    public var pgText: String? { String(self) }
    public static var pgType: UInt32 { 25 }
}

extension Bool: PGParameter {
    public var pgText: String? { self ? "t" : "f" }
    public static var pgType: UInt32 { 16 }
}

extension Double: PGParameter {
    public var pgText: String? { "\(self)" }
    public static var pgType: UInt32 { 701 }
}

/// Bytes, as bytea's hex form.
extension Data: PGParameter {
    public var pgText: String? {
        let digits = Array("0123456789abcdef".utf8)
        var text = [UInt8]("\\x".utf8)
        text.reserveCapacity(2 + count * 2)
        for byte in self { text.append(digits[Int(byte >> 4)]); text.append(digits[Int(byte & 15)]) }
        return String(decoding: text, as: UTF8.self)
    }
    public static var pgType: UInt32 { 17 }
}

extension Optional: PGParameter where Wrapped: PGParameter {
    public var pgText: String? { self?.pgText }
    public static var pgType: UInt32 { Wrapped.pgType }
}

/// A NULL of no particular type (the server infers it from where it goes).
public struct PGNull: PGParameter {
    public init() {}
    public var pgText: String? { nil }
    public static var pgType: UInt32 { 0 }
}

/// A value read from a row in its text form.
public protocol PGDecodable {
    /// The value of `text` (never NULL here), or nil when it is not one.
    init?(pgText text: String)
}

extension Int64: PGDecodable { public init?(pgText text: String) { self.init(text) } }
extension Int: PGDecodable { public init?(pgText text: String) { self.init(text) } }
extension String: PGDecodable { public init?(pgText text: String) { self = text } }
extension Double: PGDecodable { public init?(pgText text: String) { self.init(text) } }

extension Bool: PGDecodable {
    public init?(pgText text: String) {
        switch text {
        case "t", "true", "1": self = true
        case "f", "false", "0": self = false
        default: return nil
        }
    }
}

extension Data: PGDecodable {
    /// bytea's hex output form (`\x…`, the server default since 9.0).
    public init?(pgText text: String) {
        let utf8 = Array(text.utf8)
        guard utf8.count >= 2, utf8[0] == UInt8(ascii: "\\"), utf8[1] == UInt8(ascii: "x"), utf8.count % 2 == 0 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var bytes = [UInt8]()
        bytes.reserveCapacity((utf8.count - 2) / 2)
        var i = 2
        while i < utf8.count {
            guard let high = nibble(utf8[i]), let low = nibble(utf8[i + 1]) else { return nil }
            bytes.append(high << 4 | low)
            i += 2
        }
        self.init(bytes)
    }
}
