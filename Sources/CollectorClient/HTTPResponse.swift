/// A parsed HTTP/1.1 response.
public struct HTTPResponse: Sendable, Equatable {
    public var status: Int
    public var headers: [String: String]  // names lowercased
    public var body: [UInt8]

    public var text: String { String(decoding: body, as: UTF8.self) }

    /// The most a response may be, head and body: the collector's answers are a few KiB
    /// (a receipt, a certificate), so anything near this is not one.
    public static let maxBytes = 16 << 20
    /// The most its head may be, status line and headers.
    public static let maxHeadBytes = 64 << 10

    public init(status: Int, headers: [String: String], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// Parses a whole response as read off the connection (`Content-Length` or chunked);
    /// nil while more bytes are needed. Strict: anything it cannot read, and any length
    /// that is negative, overflows or passes `maxBytes`, is an error saying what it got.
    public static func parse(_ bytes: [UInt8]) throws(HTTPClientError) -> HTTPResponse? {
        var reader = HTTPResponseReader()
        return try reader.receive(bytes)
    }
}

public enum HTTPClientError: Error, CustomStringConvertible, Sendable, Equatable {
    case malformed(String)
    case closedEarly
    /// What was larger than the response may be, in a sentence.
    case tooLarge(String)

    public var description: String {
        switch self {
        case .malformed(let what): "the collector sent a malformed response: \(what)"
        case .closedEarly: "the collector closed the connection before its response was complete"
        case .tooLarge(let what): "the collector's response is too large: \(what)"
        }
    }
}

/// Text from the peer, for an error message: at most 80 characters, control characters
/// escaped, quoted — it came from the network and goes to a log.
func quoted(_ bytes: some Collection<UInt8>) -> String {
    let text = String(decoding: bytes.prefix(80), as: UTF8.self)
    return String(reflecting: text) + (bytes.count > 80 ? "…" : "")
}
