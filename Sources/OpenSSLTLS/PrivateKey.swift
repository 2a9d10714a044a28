import COpenSSL
import Glibc

/// A private key (ECDSA P-256 by default). It is made where it is used and written only
/// with mode 0600: an agent's key never leaves its host.
public final class PrivateKey: @unchecked Sendable {
    let pointer: OpaquePointer  // EVP_PKEY*

    init(taking pointer: OpaquePointer) { self.pointer = pointer }

    deinit { EVP_PKEY_free(pointer) }

    /// A new ECDSA key on P-256.
    public static func generate() throws(TLSError) -> PrivateKey {
        PrivateKey(taking: try required("generating a P-256 key", pw_generate_p256()))
    }

    public convenience init(pem: String) throws(TLSError) {
        let key = MemoryBIO.reading(pem) { PEM_read_bio_PrivateKey($0, nil, nil, nil) }
        self.init(taking: try required("reading a PEM private key", key))
    }

    /// PKCS#8 PEM, unencrypted: protect it with file permissions.
    public func pem() throws(TLSError) -> String {
        try MemoryBIO.text("writing the private key") { PEM_write_bio_PrivateKey($0, pointer, nil, nil, 0, nil, nil) }
    }

    /// Writes the key to `path`, created 0600 (replacing any file there).
    public func write(to path: String) throws {
        try FileWriting.write(try pem(), to: path, mode: 0o600)
    }
}

/// Small file writes without Foundation, for keys and certificates.
public enum FileWriting {
    public struct Failed: Error, CustomStringConvertible {
        public let path: String
        public let reason: String
        public var description: String { "\(path): \(reason)" }

        public init(path: String, reason: String) {
            self.path = path
            self.reason = reason
        }
    }

    /// Writes whole to a temporary file beside `path` and renames it: a crash leaves the
    /// old file or the new one, never half of one.
    public static func write(_ text: String, to path: String, mode: mode_t) throws(Failed) {
        try write(bytes: Array(text.utf8), to: path, mode: mode)
    }

    public static func write(bytes: [UInt8], to path: String, mode: mode_t) throws(Failed) {
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw Failed(path: temporary, reason: String(cString: strerror(errno))) }
        var bytes = bytes
        let written = bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd) == 0
        close(fd)
        guard written == bytes.count, synced, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw Failed(path: path, reason: String(cString: strerror(errno)))
        }
        bytes.removeAll()
    }

    public static func read(_ path: String) throws(Failed) -> String {
        String(decoding: try readBytes(path), as: UTF8.self)
    }

    /// The file's bytes as they are, valid UTF-8 or not.
    public static func readBytes(_ path: String) throws(Failed) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Failed(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 << 10)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 { throw Failed(path: path, reason: String(cString: strerror(errno))) }
            if n == 0 { return bytes }
            bytes += chunk[0..<n]
        }
    }
}
