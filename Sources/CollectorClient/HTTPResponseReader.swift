/// Reads one HTTP/1.1 response (RFC 9112) as its bytes arrive. Bounded: the head by
/// `HTTPResponse.maxHeadBytes`, everything by `HTTPResponse.maxBytes`; a length or chunk
/// size is refused before anything is allocated for it. Interim 1xx responses are skipped.
public struct HTTPResponseReader: Sendable {
    /// Bytes not yet consumed: the head until it is parsed, then the body's framing.
    private var buffer: [UInt8] = []
    /// How far the search for the head's end has looked, so each call looks only at new bytes.
    private var searched = 0
    private var received = 0
    private var head: Head?
    private var chunks = ChunkedBody()

    struct Head: Sendable {
        var status: Int
        var headers: [String: String]
        var framing: Framing
    }

    enum Framing: Sendable {
        case length(Int)
        case chunked
        /// Neither length nor chunked: the body is whatever arrives before the close.
        case untilClose
    }

    public init() {}

    /// Takes the next bytes; the response once it is complete.
    public mutating func receive(_ bytes: [UInt8]) throws(HTTPClientError) -> HTTPResponse? {
        received += bytes.count
        buffer += bytes
        while head == nil {
            guard let end = headEnd() else { break }
            let parsed = try Self.parseHead(buffer[..<end])
            buffer.removeSubrange(..<(end + 4))
            searched = 0
            // 100 Continue and the like come before the real answer.
            if (100..<200).contains(parsed.status) { continue }
            head = parsed
        }
        if let response = try complete() { return response }
        guard received <= HTTPResponse.maxBytes else {
            throw .tooLarge("more than \(HTTPResponse.maxBytes) bytes arrived and it is not complete")
        }
        return nil
    }

    /// The peer closed: the response, if what arrived is a whole one.
    public mutating func finish() throws(HTTPClientError) -> HTTPResponse {
        if let response = try complete() { return response }
        guard let head, case .untilClose = head.framing else { throw .closedEarly }
        return HTTPResponse(status: head.status, headers: head.headers, body: buffer)
    }

    /// The index of the head's blank line (CRLF CRLF), once it has arrived.
    private mutating func headEnd() -> Int? {
        let from = max(0, searched - 3)
        if let found = buffer[from...].firstRange(of: [13, 10, 13, 10]) { return found.lowerBound }
        searched = buffer.count
        return nil
    }

    private mutating func complete() throws(HTTPClientError) -> HTTPResponse? {
        guard let head else {
            if buffer.count > HTTPResponse.maxHeadBytes { throw Self.headTooLarge }
            return nil
        }
        switch head.framing {
        case .length(let length):
            guard buffer.count >= length else { return nil }
            buffer.removeSubrange(length...)  // bytes after the body belong to no one: Connection: close
            return HTTPResponse(status: head.status, headers: head.headers, body: buffer)
        case .chunked:
            guard try chunks.advance(&buffer) else { return nil }
            return HTTPResponse(status: head.status, headers: head.headers, body: chunks.body)
        case .untilClose:
            return nil
        }
    }
}

extension HTTPResponseReader {
    /// The status line and headers (without the blank line), and how the body is framed.
    static func parseHead(_ bytes: ArraySlice<UInt8>) throws(HTTPClientError) -> Head {
        guard bytes.count <= HTTPResponse.maxHeadBytes else { throw headTooLarge }
        var lines = bytes.split(separator: [13, 10], omittingEmptySubsequences: false).makeIterator()
        let statusLine = lines.next() ?? []
        let status = try parseStatus(statusLine)
        var headers: [String: String] = [:]
        while let line = lines.next() {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > line.startIndex,
                  line[..<colon].allSatisfy(isTokenByte) else {
                throw .malformed("expected a header \"Name: value\", got \(quoted(line))")
            }
            let name = String(decoding: line[..<colon], as: UTF8.self).lowercased()
            let value = String(decoding: line[(colon + 1)...].drop { $0 == 32 || $0 == 9 }.reversed().drop { $0 == 32 || $0 == 9 }
                .reversed(), as: UTF8.self)
            // Two lengths are a framing the reader would have to guess at: refuse.
            if let earlier = headers[name], name == "content-length" || name == "transfer-encoding", earlier != value {
                throw .malformed("two \(name) headers, \(quoted(earlier.utf8)) and \(quoted(value.utf8))")
            }
            headers[name] = value
        }
        return Head(status: status, headers: headers, framing: try framing(status: status, headers))
    }

    static func parseStatus(_ line: ArraySlice<UInt8>) throws(HTTPClientError) -> Int {
        // "HTTP/1.1 200 OK": version, three digits, a reason that may be empty.
        let parts = line.split(separator: 32, maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0].starts(with: Array("HTTP/1.".utf8)), parts[0].count == 8,
              parts[1].count == 3, let status = decimal(parts[1]), (100...599).contains(status) else {
            throw .malformed("expected a status line like \"HTTP/1.1 200 OK\", got \(quoted(line))")
        }
        return status
    }

    static func framing(status: Int, _ headers: [String: String]) throws(HTTPClientError) -> Framing {
        if status == 204 || status == 304 { return .length(0) }
        if let coding = headers["transfer-encoding"] {
            guard coding.lowercased() == "chunked" else {
                throw .malformed("Transfer-Encoding \(quoted(coding.utf8)) is not one this agent reads (chunked is)")
            }
            guard headers["content-length"] == nil else {
                throw .malformed("both Transfer-Encoding and Content-Length: the body's length is ambiguous")
            }
            return .chunked
        }
        guard let text = headers["content-length"] else { return .untilClose }
        guard let length = decimal(text.utf8) else {
            throw .malformed("Content-Length \(quoted(text.utf8)) is not a number of bytes (digits only)")
        }
        guard length <= HTTPResponse.maxBytes else {
            throw .tooLarge("it declares Content-Length \(text), more than \(HTTPResponse.maxBytes) bytes")
        }
        return .length(length)
    }

    static let headTooLarge = HTTPClientError.tooLarge(
        "its head (status line and headers) runs past \(HTTPResponse.maxHeadBytes) bytes without its end, a blank line")

    /// A non-negative decimal number, digits only; nil for anything else or past Int.max.
    static func decimal(_ digits: some Collection<UInt8>) -> Int? {
        guard !digits.isEmpty else { return nil }
        var value = 0
        for byte in digits {
            guard (48...57).contains(byte) else { return nil }
            let (times, overflow) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(Int(byte - 48))
            guard !overflow, !overflow2 else { return nil }
            value = sum
        }
        return value
    }

    static func isTokenByte(_ byte: UInt8) -> Bool {
        // RFC 9110 tchar: visible ASCII except delimiters.
        (33...126).contains(byte) && !Array("\"(),/:;<=>?@[\\]{}".utf8).contains(byte)
    }
}
