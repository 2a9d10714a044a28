import Glibc
import Synchronization

/// Standard error, one write(2) per line under a lock, so lines logged from several threads
/// (the collector's event loops and its ingest thread) never interleave.
public enum StandardError {
    private static let lock = Mutex(())

    public static func write(_ line: String) {
        lock.withLock { _ in
            var line = line
            line.withUTF8 { bytes in
                guard let base = bytes.baseAddress else { return }
                var offset = 0
                while offset < bytes.count {
                    let n = Glibc.write(2, base + offset, bytes.count - offset)
                    if n < 0 && errno == EINTR { continue }
                    if n <= 0 { return }
                    offset += n
                }
            }
        }
    }
}
