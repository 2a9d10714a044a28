import COpenSSL

/// A session a client can offer on its next connection to skip the full handshake.
public final class TLSSession: @unchecked Sendable {
    let pointer: OpaquePointer  // SSL_SESSION*

    init(taking pointer: OpaquePointer) { self.pointer = pointer }

    deinit { SSL_SESSION_free(pointer) }
}
