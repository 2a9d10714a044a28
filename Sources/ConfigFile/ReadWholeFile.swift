import Glibc

/// The file's bytes as UTF-8 text; on failure, why (the system's words: "No such file or
/// directory", "Permission denied").
func readWholeFile(_ path: String) -> Result<String, ReadFailure> {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return .failure(ReadFailure()) }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 16 << 10)
    while true {
        let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if count == 0 { return .success(String(decoding: bytes, as: UTF8.self)) }
        if count < 0 {
            if errno == EINTR { continue }
            return .failure(ReadFailure())
        }
        bytes.append(contentsOf: chunk[..<count])
    }
}

/// errno, in words, at the moment it was made.
struct ReadFailure: Error {
    let reason = String(cString: strerror(errno))
}
