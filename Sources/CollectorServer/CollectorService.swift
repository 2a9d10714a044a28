import Dispatch
import Glibc
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import OpenSSLTLS

/// The running collector: a listening socket whose connections each get TLS from the
/// system OpenSSL, NIO's HTTP/1.1 codec, the body limit, and the request handler (its
/// time limits, the routes).
public struct CollectorService: Sendable {
    let settings: CollectorApplication.Settings
    let tls: TLSContext
    let routes: Routes
    let ingest: IngestQueue
    let connections: Connections
    let metrics: CollectorMetrics
    let refusals: RefusalLog
    let logger: Logger
    let certificates: CertificateCheck
    /// Signing for the collectors without the CA key, on the one that has it (shared database).
    let signing: SigningLoop?
    let onRunning: @Sendable (Int) async -> Void

    /// Serves until the task is cancelled or one of `signals` arrives, then stops
    /// accepting, lets the requests in flight finish (idle connections are closed), and
    /// returns once every connection is gone.
    public func runService(stoppingOn signals: [Int32] = []) async throws {
        let stopSignals = StopSignals(signals)
        routes.pool.start()
        ingest.start()
        // The event loops' descriptors (an epoll and two eventfds each) are made here, so
        // the caps are fitted to what is left after them.
        let group = MultiThreadedEventLoopGroup.singleton
        let channel: any Channel
        do {
            try limitConnections()
            channel = try await ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 1024)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .serverChannelInitializer { listener in
                    listener.eventLoop.makeCompletedFuture {
                        try listener.pipeline.syncOperations.addHandler(Admission(connections: connections, metrics: metrics))
                    }
                }
                // TCP_NODELAY at the TCP level: as a socket-level option its number is
                // SO_DEBUG, which needs CAP_NET_ADMIN — refused to the service's own user,
                // and NIO closed every accepted connection.
                .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
                .childChannelInitializer { channel in
                    // Admitted by now (`Admission`, on the listener's pipeline).
                    channel.eventLoop.makeCompletedFuture { try configure(channel.pipeline.syncOperations) }
                }
                .bind(host: settings.host, port: settings.port).get()
        } catch {
            try? await routes.pool.shutdownGracefully()
            await ingest.stop()
            throw ListenFailed(host: settings.host, port: settings.port, error) ?? error
        }
        await onRunning(channel.localAddress?.port ?? settings.port)
        signing?.start()
        await stopSignals.wait()
        logger.info("stopping: no new connections; finishing the requests in flight", metadata: ["event": "stopping"])
        try? await channel.close()
        await connections.quiesce()
        signing?.stop()
        try? await routes.pool.shutdownGracefully()
        await ingest.stop()
    }

    /// Fits the connection caps to the descriptors left once the event loops and the
    /// database are open, and says in the log which are in force.
    private func limitConnections() throws {
        let (limits, why) = settings.connectionLimits.fitted(descriptorLimit: Descriptors.limit, inUse: Descriptors.open)
        // A collector the descriptor limit leaves a handful of connections would time out a
        // fleet while looking healthy: it does not start (a cap an operator set low stands).
        guard limits.total >= min(settings.connectionLimits.total, ConnectionLimits.fewestUsable) else {
            throw TooFewDescriptors(message: why + "; fewer than \(ConnectionLimits.fewestUsable) connections is no collector: "
                + "raise the descriptor limit (LimitNOFILE in the unit, or `ulimit -n`) and start again")
        }
        connections.limits = limits
        metrics.connectionLimits(limits)
        logger.log(level: limits.total < settings.connectionLimits.total ? .warning : .info,
                   "\(why); a host's connection kept \(settings.keepAliveTimeout) s between requests (keepalive_timeout)", metadata: [
            "event": "connection_limits", "total": "\(limits.total)", "per_address": "\(limits.perAddress)",
            "keepalive_timeout": "\(settings.keepAliveTimeout)"])
    }

    private func configure(_ pipeline: ChannelPipeline.SynchronousOperations) throws {
        let connections = connections
        try pipeline.addHandler(OpenSSLServerHandler(context: tls, handshakeTimeout: .seconds(settings.handshakeTimeout),
                                                     metrics: metrics, certificates: certificates,
                                                     heard: { connections.spoke($0) }))
        try configureHTTP(pipeline)
    }

    /// Everything above TLS: what a connection's plaintext goes through. Apart so the
    /// request-path fuzzer (fuzz/harnesses/http-request.swift) drives this very pipeline.
    func configureHTTP(_ pipeline: ChannelPipeline.SynchronousOperations) throws {
        // Pipelining assistance: one request at a time reaches the handlers below, and it
        // is what closes a connection gracefully when the collector stops.
        // Reads stop while the client does not read its answers: pipelined requests from a
        // client that never reads would otherwise pile their answers up in memory.
        try pipeline.addHandler(BackPressureHandler())
        try pipeline.configureHTTPServerPipeline(withPipeliningAssistance: true, withErrorHandling: true)
        try pipeline.addHandler(BodyLimit(limit: settings.maxReportBytes, uncertifiedLimit: EnrollRoutes.maxRequestBytes,
                                          metrics: metrics, refusals: refusals))
        try pipeline.addHandler(RequestHandler(routes: routes, timeouts: .init(settings), metrics: metrics,
                                               certificates: certificates, connections: connections))
    }
}

/// Stop signals, caught from when it is made — before the listener opens, so that a
/// SIGTERM just after the port answers stops the collector cleanly rather than killing it.
private final class StopSignals {
    private let stopped: AsyncStream<Void>
    private let stop: AsyncStream<Void>.Continuation
    private let sources: [any DispatchSourceSignal]

    init(_ signals: [Int32]) {
        (stopped, stop) = AsyncStream<Void>.makeStream()
        let stop = stop
        sources = signals.map { number in
            signal(number, SIG_IGN)  // the dispatch source receives it instead
            let source = DispatchSource.makeSignalSource(signal: number)
            source.setEventHandler { stop.finish() }
            source.resume()
            return source
        }
    }

    deinit { sources.forEach { $0.cancel() } }

    /// Returns when the task is cancelled or one of the signals has arrived.
    func wait() async {
        await withTaskCancellationHandler {
            for await _ in stopped {}
        } onCancel: { [stop] in
            stop.finish()
        }
    }
}

/// The listening socket could not be made: the address, why in words, and what to do —
/// not NIO's `bind(descriptor:ptr:bytes:)` and an errno.
public struct ListenFailed: Error, CustomStringConvertible {
    public let description: String
    /// The address is taken, perhaps by a collector still stopping: worth another try
    /// (exit 75, and systemd restarts the unit), unlike an address this host lacks.
    public let addressInUse: Bool

    init?(host: String, port: Int, _ error: any Error) {
        let address = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        guard let code = (error as? IOError)?.errnoCode else { return nil }
        let why = switch code {
        case EADDRINUSE: "address already in use; is another portwarden serve running? Stop it, or choose another --listen "
            + "(or `listen:` in the config)"
        case EACCES: "permission denied; a port below 1024 needs root or CAP_NET_BIND_SERVICE: "
            + "grant it, or choose a port from 1024 up with --listen"
        case EADDRNOTAVAIL: "no interface of this host has that address; choose one it has with --listen (0.0.0.0 for all)"
        default: "\(String(cString: strerror(code))); check --listen (or `listen:` in the config)"
        }
        description = "cannot listen on \(address): \(why)"
        addressInUse = code == EADDRINUSE
    }
}

/// The descriptor limit leaves too few connections to serve a fleet.
struct TooFewDescriptors: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
