/// A chunked body (RFC 9112 §7.1) decoded as it arrives: `size-in-hex[;ext] CRLF data
/// CRLF`, …, `0 CRLF`, trailers, CRLF. A size is refused when it is not hex, overflows,
/// or would take the body past `HTTPResponse.maxBytes` — before any byte is kept for it.
struct ChunkedBody: Sendable {
    private(set) var body: [UInt8] = []
    /// Where the next unread part starts in the caller's buffer.
    private var position = 0
    private var inTrailers = false
    /// A size line or trailer is a few bytes; past this it is not one.
    static let maxLineBytes = 4 << 10

    /// Consumes what `buffer` holds; true once the last chunk and the trailers are in.
    mutating func advance(_ buffer: inout [UInt8]) throws(HTTPClientError) -> Bool {
        defer { compact(&buffer) }
        while true {
            guard let lineEnd = buffer[position...].firstRange(of: [13, 10])?.lowerBound else {
                guard buffer.count - position <= Self.maxLineBytes else {
                    throw .malformed("a chunk-size line longer than \(Self.maxLineBytes) bytes")
                }
                return false
            }
            let line = buffer[position..<lineEnd]
            guard line.count <= Self.maxLineBytes else {
                throw .malformed("a chunk-size line longer than \(Self.maxLineBytes) bytes")
            }
            if inTrailers {
                position = lineEnd + 2
                if line.isEmpty { return true }
                continue
            }
            let size = try Self.size(line)
            if size == 0 {
                inTrailers = true
                position = lineEnd + 2
                continue
            }
            guard size <= HTTPResponse.maxBytes - body.count else {
                throw .tooLarge("a chunk of \(size) bytes would take the body past \(HTTPResponse.maxBytes) bytes")
            }
            let start = lineEnd + 2
            guard buffer.count - start >= size + 2 else { return false }
            guard buffer[start + size] == 13, buffer[start + size + 1] == 10 else {
                throw .malformed("a chunk of \(size) bytes is not followed by CRLF")
            }
            body += buffer[start..<(start + size)]
            position = start + size + 2
        }
    }

    /// The size in a chunk-size line, extensions (`;name=value`) ignored.
    static func size(_ line: ArraySlice<UInt8>) throws(HTTPClientError) -> Int {
        let digits = line.prefix { $0 != UInt8(ascii: ";") }.reversed().drop { $0 == 32 || $0 == 9 }.reversed()
        var value = 0
        for byte in digits {
            let digit: Int
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = Int(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = Int(byte - UInt8(ascii: "a")) + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = Int(byte - UInt8(ascii: "A")) + 10
            default: throw .malformed("expected a chunk size in hex, got \(quoted(line))")
            }
            // Past the response bound already: no need to read further digits into an overflow.
            guard value <= HTTPResponse.maxBytes else { break }
            value = value * 16 + digit
        }
        guard !digits.isEmpty else { throw .malformed("expected a chunk size in hex, got \(quoted(line))") }
        guard value <= HTTPResponse.maxBytes else {
            throw .tooLarge("a chunk size of \(quoted(digits)) is more than \(HTTPResponse.maxBytes) bytes")
        }
        return value
    }

    /// Drops consumed bytes once they are most of the buffer: linear overall, not per chunk.
    private mutating func compact(_ buffer: inout [UInt8]) {
        guard position > 64 << 10, position * 2 > buffer.count else { return }
        buffer.removeSubrange(..<position)
        position = 0
    }
}
