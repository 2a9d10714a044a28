/// A streaming JSON writer: values go straight into a byte buffer that is handed to
/// `sink` in chunks, so a snapshot of thousands of listeners never exists twice in
/// memory. Keys come from each type's `CodingKeys`, the same ones its `Decodable`
/// conformance reads, so writer and reader cannot drift apart.
public struct JSONWriter {
    public private(set) var buffer: [UInt8] = []
    private var needsComma = false
    private let sink: (([UInt8]) -> Void)?
    private let chunkSize: Int

    /// With a sink, full chunks are flushed to it; without one, `buffer` keeps everything.
    public init(chunkSize: Int = 64 << 10, sink: (([UInt8]) -> Void)? = nil) {
        self.sink = sink
        self.chunkSize = chunkSize
        buffer.reserveCapacity(sink == nil ? 4096 : chunkSize + 1024)
    }

    public mutating func beginObject() { separate(); buffer.append(UInt8(ascii: "{")); needsComma = false }
    public mutating func endObject() { buffer.append(UInt8(ascii: "}")); needsComma = true; flushIfFull() }
    public mutating func beginArray() { separate(); buffer.append(UInt8(ascii: "[")); needsComma = false }
    public mutating func endArray() { buffer.append(UInt8(ascii: "]")); needsComma = true }

    public mutating func key<K: CodingKey>(_ key: K) { self.key(key.stringValue) }

    /// A key that is no type's CodingKey: an export's column name.
    public mutating func key(_ name: String) {
        separate()
        appendQuoted(name)
        buffer.append(UInt8(ascii: ":"))
        needsComma = false
    }

    /// Ends a value written to be placed elsewhere (`raw`): no comma before the next.
    public mutating func endPart() { needsComma = false }

    /// Ends one document of a stream (NDJSON): a newline, no comma before the next.
    public mutating func endLine() {
        buffer.append(UInt8(ascii: "\n"))
        needsComma = false
        flushIfFull()
    }

    public mutating func value(_ string: String) { separate(); appendQuoted(string); needsComma = true }
    public mutating func value(_ bool: Bool) { separate(); buffer.append(contentsOf: (bool ? "true" : "false").utf8); needsComma = true }
    public mutating func value<I: BinaryInteger>(_ int: I) {
        separate()
        if int < 0 { buffer.append(UInt8(ascii: "-")) }
        appendDigits(UInt64(int.magnitude))
        needsComma = true
    }
    public mutating func null() { separate(); buffer.append(contentsOf: "null".utf8); needsComma = true }

    public mutating func value(_ string: String?) { if let string { value(string) } else { null() } }
    public mutating func value<I: BinaryInteger>(_ int: I?) { if let int { value(int) } else { null() } }
    public mutating func value(_ strings: [String]) {
        beginArray()
        for s in strings { value(s) }
        endArray()
    }
    public mutating func value<I: BinaryInteger>(_ ints: [I]) {
        beginArray()
        for i in ints { value(i) }
        endArray()
    }
    /// An object of strings, keys sorted so equal mappings write equal bytes; null for nil.
    public mutating func value(_ mapping: [String: String]?) {
        guard let mapping else { return null() }
        beginObject()
        for (k, v) in mapping.sorted(by: { $0.key < $1.key }) {
            key(k)
            value(v)
        }
        endObject()
    }
    public mutating func value<W: WireEncodable>(_ item: W) { item.write(to: &self) }
    /// A value encoded already (by another writer): its bytes as they are.
    public mutating func raw(_ encoded: [UInt8]) { separate(); buffer.append(contentsOf: encoded); needsComma = true }
    public mutating func value<W: WireEncodable>(_ items: [W]) {
        beginArray()
        for item in items { item.write(to: &self) }
        endArray()
    }

    /// Hands whatever is buffered to the sink.
    public mutating func flush() {
        guard let sink, !buffer.isEmpty else { return }
        sink(buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    private mutating func flushIfFull() { if sink != nil && buffer.count >= chunkSize { flush() } }

    /// Decimal digits straight into the buffer: no String per number.
    private mutating func appendDigits(_ magnitude: UInt64) {
        var value = magnitude
        let start = buffer.count
        repeat {
            buffer.append(UInt8(ascii: "0") + UInt8(value % 10))
            value /= 10
        } while value > 0
        buffer[start...].reverse()
    }

    private mutating func separate() { if needsComma { buffer.append(UInt8(ascii: ",")) } }

    /// RFC 8259 string escaping; bytes that are not valid UTF-8 already became U+FFFD
    /// when the String was made from /proc bytes.
    private mutating func appendQuoted(_ s: String) {
        buffer.append(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { bytes in
            // Most strings need no escape: copy them whole.
            if !bytes.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C || $0 == 0x7F }) {
                buffer.append(contentsOf: bytes)
                return
            }
            for byte in bytes { appendEscaped(byte) }
        }
        buffer.append(UInt8(ascii: "\""))
    }

    private mutating func appendEscaped(_ byte: UInt8) {
        switch byte {
        case UInt8(ascii: "\""): buffer.append(contentsOf: [0x5C, 0x22])
        case UInt8(ascii: "\\"): buffer.append(contentsOf: [0x5C, 0x5C])
        case 0x0A: buffer.append(contentsOf: [0x5C, UInt8(ascii: "n")])
        case 0x0D: buffer.append(contentsOf: [0x5C, UInt8(ascii: "r")])
        case 0x09: buffer.append(contentsOf: [0x5C, UInt8(ascii: "t")])
        case 0..<0x20, 0x7F:
            buffer.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, Hex.digit(byte >> 4), Hex.digit(byte & 15)])
        default: buffer.append(byte)
        }
    }
}

/// A wire type that writes itself with `JSONWriter`.
public protocol WireEncodable {
    func write(to writer: inout JSONWriter)
}
