/// A parsed HTTP/1.1 response.
public struct HTTPResponse: Sendable, Equatable {
    public var status: Int
    public var headers: [String: String]  // names lowercased
    public var body: [UInt8]

    public var text: String { String(decoding: body, as: UTF8.self) }

    /// Parses a whole response as read off the connection (`Content-Length` or chunked).
    /// Strict: anything it cannot read is an error with what it expected.
    public static func parse(_ bytes: [UInt8]) throws(HTTPClientError) -> HTTPResponse? {
        guard let headEnd = bytes.firstRange(of: [13, 10, 13, 10]) else { return nil }  // need more bytes
        let head = String(decoding: bytes[..<headEnd.lowerBound], as: UTF8.self)
        var lines = head.split(separator: "\r\n", omittingEmptySubsequences: false).makeIterator()
        guard let statusLine = lines.next() else { throw .malformed("an empty response") }
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]) else {
            throw .malformed("expected a status line like \"HTTP/1.1 200 OK\", got \"\(statusLine)\"")
        }
        var headers: [String: String] = [:]
        while let line = lines.next() {
            guard let colon = line.firstIndex(of: ":") else { throw .malformed("expected a header, got \"\(line)\"") }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: " \t")
        }
        let rest = Array(bytes[headEnd.upperBound...])
        if headers["transfer-encoding"]?.lowercased() == "chunked" {
            guard let body = try dechunk(rest) else { return nil }
            return HTTPResponse(status: status, headers: headers, body: body)
        }
        guard let length = Int(headers["content-length"] ?? "0") else { throw .malformed("a bad content-length") }
        guard rest.count >= length else { return nil }
        return HTTPResponse(status: status, headers: headers, body: Array(rest.prefix(length)))
    }

    /// A chunked body, or nil while the last chunk has not arrived.
    static func dechunk(_ bytes: [UInt8]) throws(HTTPClientError) -> [UInt8]? {
        var body: [UInt8] = []
        var index = 0
        while true {
            guard let lineEnd = bytes[index...].firstRange(of: [13, 10]) else { return nil }
            let sizeText = String(decoding: bytes[index..<lineEnd.lowerBound], as: UTF8.self)
            guard let size = Int(sizeText.split(separator: ";").first ?? "", radix: 16) else {
                throw .malformed("expected a chunk size, got \"\(sizeText)\"")
            }
            index = lineEnd.upperBound
            if size == 0 { return body }
            guard bytes.count >= index + size + 2 else { return nil }
            body += bytes[index..<(index + size)]
            index += size + 2
        }
    }
}

extension StringProtocol {
    func trimmingCharacters(in set: String) -> String {
        let trimmed = drop { set.contains($0) }
        return String(trimmed.reversed().drop { set.contains($0) }.reversed())
    }
}

public enum HTTPClientError: Error, CustomStringConvertible, Sendable {
    case malformed(String)
    case closedEarly
    case tooLarge(Int)

    public var description: String {
        switch self {
        case .malformed(let what): "the collector sent a malformed response: \(what)"
        case .closedEarly: "the collector closed the connection before its response was complete"
        case .tooLarge(let limit): "the collector's response is larger than \(limit) bytes"
        }
    }
}
