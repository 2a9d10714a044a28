import Foundation
import OpenSSLTLS

/// What the test collectors read of a request: its target and its body, read whole by
/// its Content-Length; nil when the peer closed first.
public func readHTTPRequest(_ tls: TLSSocket) -> (path: String, body: [UInt8])? {
    var bytes: [UInt8] = []
    while true {
        guard let chunk = try? tls.read(), !chunk.isEmpty else { return nil }
        bytes += chunk
        guard let end = bytes.firstRange(of: [13, 10, 13, 10]) else { continue }
        let head = String(decoding: bytes[..<end.lowerBound], as: UTF8.self)
        let path = head.split(separator: " ").dropFirst().first.map(String.init) ?? ""
        let length = head.lowercased().split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
            .flatMap { Int($0.dropFirst(15).trimmingCharacters(in: .whitespaces)) } ?? 0
        if bytes.count - end.upperBound >= length { return (path, Array(bytes[end.upperBound...].prefix(length))) }
    }
}
