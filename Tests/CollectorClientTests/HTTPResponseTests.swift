@testable import CollectorClient
import Testing

/// The agent's reader of the collector's answers, given the worst framing a peer can
/// send: each is an error that says what was wrong, never a trap.
struct HTTPResponseTests {
    static func head(_ headers: String) -> [UInt8] { Array("HTTP/1.1 200 OK\r\n\(headers)\r\n".utf8) }

    @Test func aWholeResponseByLengthAndChunked() throws {
        let byLength = try HTTPResponse.parse(Self.head("Content-Length: 5\r\n") + Array("hello".utf8))
        #expect(byLength == HTTPResponse(status: 200, headers: ["content-length": "5"], body: Array("hello".utf8)))
        let chunked = try HTTPResponse.parse(Self.head("Transfer-Encoding: chunked\r\n")
            + Array("5;x=1\r\nhello\r\n1\r\n!\r\n0\r\nTrailer: t\r\n\r\n".utf8))
        #expect(chunked?.text == "hello!")
        #expect(try HTTPResponse.parse(Self.head("Content-Length: 5\r\n") + Array("hel".utf8)) == nil, "needs more")
        #expect(try HTTPResponse.parse(Array("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n".utf8))?.status == 204)
    }

    @Test(arguments: [
        ("-1", "is not a number of bytes"),
        ("+5", "is not a number of bytes"),
        ("9223372036854775808", "is not a number of bytes"),  // 2^63: past Int.max
        ("99999999999999999999", "is not a number of bytes"),
        ("5 5", "is not a number of bytes"),
        ("", "is not a number of bytes"),
        ("16777217", "more than 16777216 bytes"),
        ("9223372036854775807", "more than 16777216 bytes"),
    ])
    func aContentLengthThatIsNotOneIsRefused(value: String, says: String) throws {
        let error = try #require(throws: HTTPClientError.self) {
            try HTTPResponse.parse(Self.head("Content-Length: \(value)\r\n") + Array("body".utf8))
        }
        #expect(error.description.contains(says), "\(error)")
    }

    @Test(arguments: [
        ("-1", "expected a chunk size in hex"),
        ("ffffffffffffffff", "more than 16777216 bytes"),
        ("10000000000000000", "more than 16777216 bytes"),  // 2^64: would overflow
        ("1000001", "more than 16777216 bytes"),
        ("zz", "expected a chunk size in hex"),
        ("", "expected a chunk size in hex"),
        ("0x10", "expected a chunk size in hex"),
    ])
    func aChunkSizeThatIsNotOneIsRefused(size: String, says: String) throws {
        let error = try #require(throws: HTTPClientError.self) {
            try HTTPResponse.parse(Self.head("Transfer-Encoding: chunked\r\n") + Array("\(size)\r\nxyz\r\n0\r\n\r\n".utf8))
        }
        #expect(error.description.contains(says), "\(error)")
    }

    @Test func chunksAddingUpPastTheBoundAreRefusedBeforeTheyArrive() throws {
        var reader = HTTPResponseReader()
        #expect(try reader.receive(Self.head("Transfer-Encoding: chunked\r\n") + Array("800000\r\n".utf8)) == nil)
        #expect(try reader.receive([UInt8](repeating: 0x61, count: 0x800000) + Array("\r\n".utf8)) == nil)
        #expect(throws: HTTPClientError.tooLarge("a chunk of 8388609 bytes would take the body past 16777216 bytes")) {
            try reader.receive(Array("800001\r\n".utf8))
        }
    }

    @Test func aHeadWithoutEndIsRefusedAtItsBound() throws {
        let megabyte = Array("HTTP/1.1 200 OK\r\nX-Filler: ".utf8) + [UInt8](repeating: 0x61, count: 1 << 20)
        #expect(throws: HTTPResponseReader.headTooLarge) { try HTTPResponse.parse(megabyte) }
        // The same arriving 16 KiB at a time is refused as soon as it passes the bound.
        var reader = HTTPResponseReader()
        var fed = 0
        let error = try #require(throws: HTTPClientError.self) {
            for start in stride(from: 0, to: megabyte.count, by: 16 << 10) {
                fed = start
                _ = try reader.receive(Array(megabyte[start..<min(start + (16 << 10), megabyte.count)]))
            }
        }
        #expect(error == HTTPResponseReader.headTooLarge)
        #expect(fed <= HTTPResponse.maxHeadBytes)
    }

    @Test(arguments: [
        ("HTTP/1.1 -200 OK\r\n\r\n", "expected a status line"),
        ("HTTP/1.1 99999999999999999999 OK\r\n\r\n", "expected a status line"),
        ("SSH-2.0-OpenSSH\r\n\r\n", "expected a status line"),
        ("HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "expected a header"),
        ("HTTP/1.1 200 OK\r\n folded: value\r\n\r\n", "expected a header"),
        ("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", "two content-length headers"),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n", "ambiguous"),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", "is not one this agent reads"),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n", "not followed by CRLF"),
    ])
    func malformedFramingIsAnErrorThatQuotesIt(response: String, says: String) throws {
        let error = try #require(throws: HTTPClientError.self) { try HTTPResponse.parse(Array(response.utf8)) }
        #expect(error.description.contains(says), "\(error)")
    }

    @Test func aCloseEndsABodyWithoutLengthAndCutsOneWithLength() throws {
        var open = HTTPResponseReader()
        #expect(try open.receive(Array("HTTP/1.1 200 OK\r\n\r\nuntil the close".utf8)) == nil)
        #expect(try open.finish().text == "until the close")
        var short = HTTPResponseReader()
        _ = try short.receive(Self.head("Content-Length: 10\r\n") + Array("abc".utf8))
        #expect(throws: HTTPClientError.closedEarly) { try short.finish() }
    }

    @Test func retryAfterAndTheStatedLimitAreRead() {
        func response(_ headers: [String: String]) -> HTTPResponse { HTTPResponse(status: 503, headers: headers, body: []) }
        #expect(response(["retry-after": "120"]).retryAfter == 120)
        #expect(response(["retry-after": "99999999999999999999"]).retryAfter == 60, "junk reads as a minute")
        #expect(response(["retry-after": "86400"]).retryAfter == HTTPResponse.maxRetryAfter)
        #expect(response(["retry-after": "Wed, 21 Oct 2026 07:28:00 GMT"]).retryAfter == 60)
        #expect(response([:]).retryAfter == nil)
        #expect(response(["x-portwarden-max-report-bytes": "65536"]).statedReportLimit == 65536)
        #expect(response(["x-portwarden-max-report-bytes": "-1"]).statedReportLimit == nil)
    }
}
