import PortwardenModel

extension HTTPResponse {
    /// The longest wait a Retry-After is taken at: a collector's (or a clock's) mistake
    /// must not silence a host for days.
    public static let maxRetryAfter = 3_600

    /// Seconds `Retry-After` asks to wait (delta-seconds; an HTTP date or junk reads as
    /// 60), at most `maxRetryAfter`; nil without the header.
    public var retryAfter: Int? {
        guard let text = headers["retry-after"] else { return nil }
        guard let seconds = HTTPResponseReader.decimal(text.utf8) else { return 60 }
        return min(max(seconds, 1), Self.maxRetryAfter)
    }

    /// The report limit a 413 states (`X-Portwarden-Max-Report-Bytes`), when it does.
    public var statedReportLimit: Int? {
        headers[WireLimits.reportLimitHeader.lowercased()].flatMap { HTTPResponseReader.decimal($0.utf8) }
    }

    /// The server closes the connection after this answer (`Connection: close`).
    var closesConnection: Bool { headers["connection"]?.lowercased() == "close" }

    /// The seconds `Keep-Alive: timeout=N` says the server keeps an idle connection.
    var keepAliveTimeout: Int? {
        guard let value = headers["keep-alive"] else { return nil }
        for parameter in value.split(separator: ",") {
            let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.filter { $0 != " " && $0 != "\t" } }
            if pair.count == 2, pair[0].lowercased() == "timeout" { return HTTPResponseReader.decimal(pair[1].utf8) }
        }
        return nil
    }
}
