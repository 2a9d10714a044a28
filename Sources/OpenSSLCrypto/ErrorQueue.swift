import COpenSSL

/// OpenSSL's per-thread error queue, read out: how a failed call says why.
public enum ErrorQueue {
    /// OpenSSL's reasons for the last failure, oldest first (`certificate verify failed`,
    /// `unknown ca`…). Drains the queue, so the next failure starts clean.
    public static func drain() -> [String] {
        var reasons: [String] = []
        while case let code = ERR_get_error(), code != 0 {
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            // "error:0A000086:SSL routines::certificate verify failed" → the reason.
            reasons.append(text.split(separator: ":", omittingEmptySubsequences: false).last.map(String.init) ?? text)
        }
        return reasons
    }
}
