/// Reads the wire format's JSON straight into the model types, the mirror of
/// `JSONWriter`: one pass over the bytes, no intermediate tree, no Codable machinery.
/// The collector decodes every report with it (Foundation's JSONDecoder took a quarter
/// of its CPU). Unknown keys are skipped, so newer agents' fields do not break an older
/// collector; a missing required key, a wrong type, a number out of its range, a value past
/// its bound (`WireLimits`) or malformed JSON is a `WireError` naming the byte offset and
/// the key path — checked here, while reading, so nothing later converts a hostile value.
public struct WireReader {
    private let bytes: [UInt8]
    private var index = 0
    /// The keys and indexes leading to the value being read, for error messages; kept
    /// as they come and only spelled out when there is an error to report.
    private var path: [Step] = []
    private enum Step {
        case key(String)
        case index(Int)
    }
    /// How deep in objects and arrays: bounded, so a hostile body nested a million deep
    /// is an error rather than a stack overflow.
    private var depth = 0
    static let maxDepth = 64
    /// The most UTF-8 bytes a string value may have once decoded: unbounded for the
    /// store's own JSON, `WireLimits.stringBytes` in a report (set by `Snapshot`).
    public var maxStringBytes = Int.max

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// Decodes one whole document; trailing bytes other than whitespace are an error.
    public static func decode<T: WireDecodable>(_ type: T.Type, from bytes: [UInt8]) throws(WireError) -> T {
        var reader = WireReader(bytes)
        let value = try T(wire: &reader)
        reader.skipWhitespace()
        guard reader.index == bytes.count else { throw reader.error("unexpected bytes after the document") }
        return value
    }

    public func error(_ message: String) -> WireError { error(message, at: index) }

    /// Where the next value begins, for an error about a value once it has been read.
    public mutating func offset() -> Int {
        skipWhitespace()
        return index
    }

    /// An error about the value that began at `offset` (from `offset()`).
    public func error(_ message: String, at offset: Int) -> WireError {
        let steps = path.map { step in
            switch step {
            case .key(let key): key
            case .index(let index): String(index)
            }
        }
        return WireError(offset: offset, path: steps.joined(separator: "."), message: message)
    }

    /// A required key that never came.
    public func missing(_ key: some CodingKey) -> WireError {
        error("missing key \"\(key.stringValue)\"")
    }

    // MARK: - Structure

    /// Calls `body` with each key of an object; `body` reads the value or calls `skip()`.
    public mutating func object(_ body: (inout WireReader, String) throws(WireError) -> Void) throws(WireError) {
        try expect(UInt8(ascii: "{"), "an object")
        try descend()
        defer { depth -= 1 }
        skipWhitespace()
        if peek() == UInt8(ascii: "}") { index += 1; return }
        while true {
            skipWhitespace()
            let key = try string()
            try expect(UInt8(ascii: ":"), "\":\" after a key")
            path.append(.key(key))
            try body(&self, key)
            path.removeLast()
            skipWhitespace()
            switch next() {
            case UInt8(ascii: ","): continue
            case UInt8(ascii: "}"): return
            default: index -= 1; throw error("expected \",\" or \"}\" in an object")
            }
        }
    }

    /// Reads an array, each element with `element`. With `limit`, an element past it is
    /// refused where it begins, before it is read: "more than `limit` `what`".
    public mutating func array<T>(atMost limit: Int = .max, _ what: @autoclosure () -> String = "elements",
                                  _ element: (inout WireReader) throws(WireError) -> T) throws(WireError) -> [T] {
        try expect(UInt8(ascii: "["), "an array")
        try descend()
        defer { depth -= 1 }
        var items: [T] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "]") { index += 1; return items }
        while true {
            path.append(.index(items.count))
            if items.count == limit {
                skipWhitespace()
                throw error("more than \(limit) \(what())")
            }
            items.append(try element(&self))
            path.removeLast()
            skipWhitespace()
            switch next() {
            case UInt8(ascii: ","): continue
            case UInt8(ascii: "]"): return items
            default: index -= 1; throw error("expected \",\" or \"]\" in an array")
            }
        }
    }

    public mutating func array<T: WireDecodable>(of type: T.Type, atMost limit: Int = .max,
                                                 _ what: @autoclosure () -> String = "elements") throws(WireError) -> [T] {
        try array(atMost: limit, what()) { (r: inout WireReader) throws(WireError) in try T(wire: &r) }
    }

    /// True (and consumed) when the next value is `null`.
    public mutating func null() -> Bool {
        skipWhitespace()
        guard index + 4 <= bytes.count, bytes[index] == UInt8(ascii: "n"), bytes[index + 1] == UInt8(ascii: "u"),
              bytes[index + 2] == UInt8(ascii: "l"), bytes[index + 3] == UInt8(ascii: "l")
        else { return false }
        index += 4
        return true
    }

    /// Skips any one value.
    public mutating func skip() throws(WireError) {
        skipWhitespace()
        switch peek() {
        case UInt8(ascii: "{"): try object { (r: inout WireReader, _) throws(WireError) in try r.skip() }
        case UInt8(ascii: "["): _ = try array { (r: inout WireReader) throws(WireError) in try r.skip() }
        case UInt8(ascii: "\""): _ = try string()
        case UInt8(ascii: "t"), UInt8(ascii: "f"): _ = try bool()
        case UInt8(ascii: "n"): if !null() { throw error("expected a value") }
        case let byte? where byte == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte): _ = try number()
        default: throw error("expected a value")
        }
    }

    // MARK: - Scalars

    public mutating func bool() throws(WireError) -> Bool {
        skipWhitespace()
        if literal("true") { return true }
        if literal("false") { return false }
        throw error("expected true or false")
    }

    public mutating func int<T: FixedWidthInteger>(_ type: T.Type = T.self) throws(WireError) -> T {
        try int(in: T.min...T.max)
    }

    /// An integer within `range`; one outside it is refused where it stands, naming the
    /// range that holds, so no later conversion (a sequence stored as Int64) can trap on it.
    public mutating func int<T: FixedWidthInteger>(in range: ClosedRange<T>) throws(WireError) -> T {
        skipWhitespace()
        let start = index
        let (negative, magnitude) = try number()
        // -magnitude as Int64 when it is one (down to -2^63); else nothing fits.
        let value = negative ? (magnitude <= 1 << 63 ? T(exactly: Int64(truncatingIfNeeded: 0 &- magnitude)) : nil) : T(exactly: magnitude)
        guard let value, range.contains(value) else {
            index = start
            throw error("\(negative && magnitude > 0 ? "-" : "")\(magnitude) is out of range \(range.lowerBound)...\(range.upperBound)")
        }
        return value
    }

    public mutating func optionalInt<T: FixedWidthInteger>(in range: ClosedRange<T>) throws(WireError) -> T? {
        null() ? nil : try int(in: range)
    }

    /// A string, at most `maxStringBytes` once decoded (invalid UTF-8 becomes U+FFFD,
    /// three bytes, so the bound is on what is kept and what a writer would send again).
    public mutating func string() throws(WireError) -> String {
        try expect(UInt8(ascii: "\""), "a string")
        let start = index
        let value = try stringBody()
        guard value.utf8.count <= maxStringBytes else {
            throw error("a string of \(value.utf8.count) bytes; at most \(maxStringBytes) are accepted", at: start - 1)
        }
        return value
    }

    /// The rest of a string whose opening quote was read.
    private mutating func stringBody() throws(WireError) -> String {
        let start = index
        // The common case: no escapes, copy the run whole.
        while index < bytes.count, bytes[index] != UInt8(ascii: "\""), bytes[index] != UInt8(ascii: "\\") {
            guard bytes[index] >= 0x20 else { throw error("a control character inside a string") }
            index += 1
        }
        guard index < bytes.count else { throw error("the string is not closed") }
        if bytes[index] == UInt8(ascii: "\"") {
            defer { index += 1 }
            return String(decoding: bytes[start..<index], as: UTF8.self)
        }
        var utf8 = Array(bytes[start..<index])
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                return String(decoding: utf8, as: UTF8.self)
            case UInt8(ascii: "\\"):
                try unescape(into: &utf8)
            case 0..<0x20:
                index -= 1
                throw error("a control character inside a string")
            default:
                utf8.append(byte)
            }
        }
        throw error("the string is not closed")
    }

    public mutating func optionalString() throws(WireError) -> String? { null() ? nil : try string() }

    public mutating func optionalInt<T: FixedWidthInteger>(_ type: T.Type = T.self) throws(WireError) -> T? {
        null() ? nil : try int(T.self)
    }

    /// An object of strings (`labels`), or null; a key past `limit` is refused at its value.
    public mutating func optionalStringMapping(atMost limit: Int = .max,
                                               _ what: @autoclosure () -> String = "keys") throws(WireError) -> [String: String]? {
        if null() { return nil }
        var mapping: [String: String] = [:]
        var keys = 0
        try object { (r: inout WireReader, key: String) throws(WireError) in
            keys += 1
            guard keys <= limit else { throw r.error("more than \(limit) \(what())", at: r.offset()) }
            mapping[key] = try r.string()
        }
        return mapping
    }

    public mutating func strings(atMost limit: Int = .max, _ what: @autoclosure () -> String = "strings") throws(WireError) -> [String] {
        try array(atMost: limit, what()) { (r: inout WireReader) throws(WireError) in try r.string() }
    }

    /// A string that must be one of an enum's raw values.
    public mutating func value<E: RawRepresentable>(_ type: E.Type) throws(WireError) -> E where E.RawValue == String {
        let start = offset()
        let raw = try string()
        guard let value = E(rawValue: raw) else {
            index = start
            throw error("\"\(raw)\" is not a valid \(E.self)")
        }
        return value
    }

    // MARK: - Lexing

    private mutating func descend() throws(WireError) {
        depth += 1
        guard depth <= Self.maxDepth else { throw error("nested deeper than \(Self.maxDepth) levels") }
    }

    private func peek() -> UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func next() -> UInt8? {
        guard index < bytes.count else { index += 1; return nil }
        defer { index += 1 }
        return bytes[index]
    }

    private mutating func skipWhitespace() {
        while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x0A || bytes[index] == 0x0D || bytes[index] == 0x09 {
            index += 1
        }
    }

    private mutating func expect(_ byte: UInt8, _ what: String) throws(WireError) {
        skipWhitespace()
        guard index < bytes.count, bytes[index] == byte else { throw error("expected \(what)") }
        index += 1
    }

    private mutating func literal(_ word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count else { return false }
        for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] { return false }
        index += count
        return true
    }

    /// An integer (the wire format has no fractions): sign and magnitude.
    private mutating func number() throws(WireError) -> (negative: Bool, magnitude: UInt64) {
        skipWhitespace()
        let negative = peek() == UInt8(ascii: "-")
        if negative { index += 1 }
        let start = index
        var magnitude: UInt64 = 0
        while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
            let (times10, o1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(UInt64(bytes[index] - UInt8(ascii: "0")))
            guard !o1, !o2 else { throw error("the number is too large") }
            magnitude = sum
            index += 1
        }
        guard index > start else { throw error("expected a whole number") }
        if let byte = peek(), byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
            throw error("expected a whole number")
        }
        return (negative, magnitude)
    }

    private mutating func unescape(into utf8: inout [UInt8]) throws(WireError) {
        guard let escaped = next() else {
            index -= 1  // next() stepped past the end; the error points at the end
            throw error("the string is not closed")
        }
        switch escaped {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(escaped)
        case UInt8(ascii: "b"): utf8.append(0x08)
        case UInt8(ascii: "f"): utf8.append(0x0C)
        case UInt8(ascii: "n"): utf8.append(0x0A)
        case UInt8(ascii: "r"): utf8.append(0x0D)
        case UInt8(ascii: "t"): utf8.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try hex4()
            // No text /proc gives holds NUL (it separates with it), and PostgreSQL's text
            // cannot store one: a host that sends one has it replaced, as invalid UTF-8 is —
            // what a host's processes are called is never a reason to refuse its report.
            if scalar == 0 { scalar = 0xFFFD }
            if (0xD800..<0xDC00).contains(scalar) {
                // A surrogate pair: the low half must follow as another \u escape.
                guard literal("\\u") else { throw error("an unpaired surrogate in \\u escape") }
                let low = try hex4()
                guard (0xDC00..<0xE000).contains(low) else { throw error("an unpaired surrogate in \\u escape") }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            }
            utf8.append(contentsOf: String(Unicode.Scalar(scalar) ?? "\u{FFFD}").utf8)
        default:
            index -= 1
            throw error("unknown escape \\\(Unicode.Scalar(escaped))")
        }
    }

    private mutating func hex4() throws(WireError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw error("a short \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw error("a bad hex digit in \\u escape")
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }
}

/// A wire type that reads itself with `WireReader`.
public protocol WireDecodable {
    init(wire reader: inout WireReader) throws(WireError)
}

/// A document that is not the wire format: where (byte offset, key path) and why.
public struct WireError: Error, Equatable, CustomStringConvertible, Sendable {
    public let offset: Int
    public let path: String
    public let message: String

    public var description: String {
        "at byte \(offset)\(path.isEmpty ? "" : " (\(path))"): \(message)"
    }
}
