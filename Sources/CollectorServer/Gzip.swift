import CZlib

/// gzip bodies, decoded with the system zlib and bounded: a small body that inflates
/// past `limit` (a zip bomb) is refused, not expanded.
public enum Gzip {
    public enum Failure: Error, Equatable {
        case corrupt(String)
        case tooLarge(Int)
    }

    public static func decompress(_ input: [UInt8], limit: Int) throws(Failure) -> [UInt8] {
        var stream = z_stream()
        guard pw_inflate_init_gzip(&stream) == Z_OK else { throw .corrupt("inflateInit failed") }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        var input = input
        return try input.withUnsafeMutableBufferPointer { source throws(Failure) in
            stream.next_in = source.baseAddress
            stream.avail_in = UInt32(source.count)
            while true {
                let (status, produced) = chunk.withUnsafeMutableBufferPointer { buffer in
                    stream.next_out = buffer.baseAddress
                    stream.avail_out = UInt32(buffer.count)
                    let status = inflate(&stream, Z_NO_FLUSH)
                    return (status, buffer.count - Int(stream.avail_out))
                }
                output += chunk.prefix(produced)
                if output.count > limit { throw .tooLarge(limit) }
                switch status {
                case Z_STREAM_END: return output
                case Z_OK: if stream.avail_in == 0 && produced == 0 { throw .corrupt("truncated gzip stream") }
                case Z_BUF_ERROR: throw .corrupt("truncated gzip stream")
                default: throw .corrupt(stream.msg.map { String(cString: $0) } ?? "inflate error \(status)")
                }
            }
        }
    }

    /// Compresses `input` (tests, and agents that want smaller reports).
    public static func compress(_ input: [UInt8]) -> [UInt8] {
        var stream = z_stream()
        guard pw_deflate_init_gzip(&stream) == Z_OK else { return [] }
        defer { deflateEnd(&stream) }
        var input = input
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(input.count))) + 32)
        input.withUnsafeMutableBufferPointer { source in
            output.withUnsafeMutableBufferPointer { target in
                stream.next_in = source.baseAddress
                stream.avail_in = UInt32(source.count)
                stream.next_out = target.baseAddress
                stream.avail_out = UInt32(target.count)
                _ = deflate(&stream, Z_FINISH)
            }
        }
        return Array(output.prefix(Int(stream.total_out)))
    }
}
