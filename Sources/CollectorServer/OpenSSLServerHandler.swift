import CollectorStore
import Foundation
import NIOCore
import OpenSSLTLS

/// Terminates TLS on a NIO channel with the system OpenSSL: ciphertext from the socket
/// is fed to a memory-BIO `TLSConnection`, plaintext goes on up the pipeline, and
/// what the HTTP layer writes is encrypted on the way down. It plays the part NIOSSL's
/// handler plays in a NIOSSL pipeline, without BoringSSL. A handshake not done within
/// `handshakeTimeout` of connecting closes the connection: a half-open handshake holds
/// a descriptor and a connection slot, and must give both back long before the header
/// timeout would.
final class OpenSSLServerHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let connection: TLSConnection
    private let handshakeTimeout: TimeAmount
    private let metrics: CollectorMetrics
    private let certificates: CertificateCheck
    private let identities: PeerIdentities
    /// Told once, at the first bytes read: the connection is not a silent one (`Connections.spoke`).
    private let heard: (any Channel) -> Void
    private var spoke = false
    private var handshakeDone = false
    /// Set once the peer is refused: nothing more it sends is read.
    private var refused = false
    /// Closes the connection if the handshake is not done in time.
    private var deadline: Scheduled<Void>?

    init(context: TLSContext, handshakeTimeout: TimeAmount, metrics: CollectorMetrics,
         certificates: CertificateCheck, heard: @escaping (any Channel) -> Void = { _ in }) throws {
        self.heard = heard
        connection = try TLSConnection(context: context)
        self.handshakeTimeout = handshakeTimeout
        self.metrics = metrics
        self.certificates = certificates
        identities = certificates.identities
    }

    // The clock starts when the connection is active: added to an active channel, or on
    // becoming active (the initializer runs before registration).
    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { startHandshakeClock(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        startHandshakeClock(context)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
    }

    private func startHandshakeClock(_ context: ChannelHandlerContext) {
        guard deadline == nil, !handshakeDone else { return }
        let bound = context.loopBound
        let metrics = metrics
        deadline = context.eventLoop.scheduleTask(in: handshakeTimeout) {
            metrics.connectionRefused(.handshakeTimeout)
            bound.value.close(promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refused else { return }
        if !spoke {
            spoke = true
            heard(context.channel)
        }
        unwrapInboundIn(data).withUnsafeReadableBytes { connection.feed($0) }
        do {
            if !handshakeDone {
                guard try connection.handshake() else { return sendCiphertext(context, flush: true) }
                handshakeDone = true
                deadline?.cancel()
                metrics.handshakeDone(resumed: connection.sessionReused)
                let identity = identities.identity(of: connection.peerCertificate)
                // A revoked certificate chains to the CA like any other, and so does one
                // whose renewed successor was presented: refuse them here, before a single
                // request byte is read (resumed sessions included). A renewed
                // certificate's first presentation is recorded: it retires its predecessor.
                // An expired certificate is refused by OpenSSL at a full handshake only: a
                // resumed session skips the dates.
                if let serial = identity.serial {
                    let standing = certificates.standing(serial)
                    let why = standing.isRefused ? RefusedCertificate(host: identity.host, serial: serial, standing: standing).description
                        : identity.outOfValidity(at: Int64(Date().timeIntervalSince1970))
                            ?? (standing == .unrecorded ? certificates.unrecordedRefusal(identity) : nil)
                    if let why {
                        refused = true
                        connection.forgetSession()
                        metrics.refused(standing == .revoked ? "revoked" : standing == .superseded ? "superseded"
                                        : standing == .unrecorded ? "unrecorded" : "expired")
                        context.fireErrorCaught(RefusedCertificate(host: identity.host, serial: serial, standing: standing, reason: why))
                        context.close(promise: nil)
                        return
                    }
                    if standing == .firstPresentation { certificates.presented(serial) }
                }
                // Known before the first request byte arrives: the identity of this channel.
                context.fireUserInboundEventTriggered(PeerVerified(identity: identity))
            }
            guard let plaintext = try decrypt(context) else {
                // close_notify from the client: answer it and close.
                connection.close()
                sendCiphertext(context, flush: true)
                context.close(promise: nil)
                return
            }
            sendCiphertext(context, flush: true)  // session tickets, key updates
            if plaintext.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(plaintext)) }
        } catch {
            // Send OpenSSL's alert (unknown ca, certificate required…) before closing.
            if !handshakeDone { metrics.handshakeFailed() }
            sendCiphertext(context, flush: true)
            context.fireErrorCaught(error)
            context.close(promise: nil)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        do {
            try unwrapOutboundIn(data).withUnsafeReadableBytes { bytes in
                Result { () throws(TLSError) in try connection.write(bytes) }
            }.get()
            sendCiphertext(context, flush: false, promise: promise)
        } catch {
            promise?.fail(error)
            context.close(promise: nil)
        }
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        if mode == .all && handshakeDone {
            connection.close()
            sendCiphertext(context, flush: true)
        }
        context.close(mode: mode, promise: promise)
    }

    /// The plaintext OpenSSL can decrypt now (empty when it needs more ciphertext), nil once
    /// the client has sent close_notify. Decrypted straight into the buffer that goes up
    /// the pipeline: no intermediate array, no zeroing.
    private func decrypt(_ context: ChannelHandlerContext) throws(TLSError) -> ByteBuffer? {
        var plaintext = context.channel.allocator.buffer(capacity: 0)
        while true {
            var result: Result<Int?, TLSError> = .success(0)
            // Room for a whole record, unless a good part of one is left: growing the
            // buffer copies what it holds.
            let room = plaintext.writableBytes >= Self.recordSize / 4 ? 1 : Self.recordSize
            plaintext.writeWithUnsafeMutableBytes(minimumWritableBytes: room) { bytes in
                result = Result { () throws(TLSError) in try connection.read(into: bytes) }
                return (try? result.get() ?? 0) ?? 0
            }
            guard let read = try result.get() else { return plaintext.readableBytes > 0 ? plaintext : nil }
            if read == 0 { return plaintext }
        }
    }

    /// The largest plaintext one TLS record carries.
    private static let recordSize = 16 << 10

    /// Moves the ciphertext OpenSSL has written into one buffer sent to the socket.
    private func sendCiphertext(_ context: ChannelHandlerContext, flush: Bool, promise: EventLoopPromise<Void>? = nil) {
        let pending = connection.pendingOutput
        if pending == 0 {
            promise?.succeed(())
        } else {
            var bytes = context.channel.allocator.buffer(capacity: pending)
            bytes.writeWithUnsafeMutableBytes(minimumWritableBytes: pending) { connection.takeOutput(into: $0) }
            context.write(wrapOutboundOut(bytes), promise: promise)
        }
        if flush { context.flush() }
    }
}

/// A client presented a certificate the collector has revoked, or one a renewed
/// certificate has replaced, or one out of its validity (over a resumed session).
struct RefusedCertificate: Error, CustomStringConvertible {
    let host: String?
    let serial: String
    let standing: CertificateStanding
    /// Said instead of the standing's reason (an expired certificate).
    var reason: String? = nil
    var description: String {
        reason ?? (standing == .revoked ? "revoked certificate \(serial) of \(host ?? "?") refused"
            : "certificate \(serial) of \(host ?? "?") refused: a renewed certificate of the name has been presented since")
    }
}
