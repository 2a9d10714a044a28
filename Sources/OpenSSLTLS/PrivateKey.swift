import COpenSSL
import Glibc
import StateFiles

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
        try StateFile.write(try pem(), to: path, mode: 0o600)
    }

    /// The key in the PEM file at `path`, refused while others may read or change it:
    /// whoever reads the fleet CA's key can mint any host's certificate, and a host's key
    /// is that host. PostgreSQL's rule: no access for others, and group read only when
    /// root owns the file (a service user in that group reading a root-owned key).
    public static func read(from path: String, followingLinks: Bool = true) throws -> PrivateKey {
        var status = stat()
        if (followingLinks ? stat(path, &status) : lstat(path, &status)) == 0 {
            let mode = status.st_mode & 0o777
            let groupMayRead = status.st_uid == 0 && mode & 0o077 == 0o040
            if mode & 0o077 != 0 && !groupMayRead {
                throw StateFile.Failed(path: path, reason: "others may read or change this private key (mode 0\(String(mode, radix: 8))): "
                                       + "chmod 600 \(path) — whoever can read it can act as its owner")
            }
        }
        return try PrivateKey(pem: StateFile.read(path, followingLinks: followingLinks))
    }
}
