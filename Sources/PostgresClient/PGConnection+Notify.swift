import CLibPQ
import Glibc

/// A NOTIFY received on a channel this connection LISTENs to.
public struct PGNotification: Sendable, Equatable {
    public let channel: String
    public let payload: String
    /// The server process that sent it.
    public let senderPID: Int32
}

extension PGConnection {
    /// Starts listening on `channel` (an identifier: letters, digits, underscores).
    public func listen(_ channel: String) throws {
        precondition(channel.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }, "a channel is an identifier")
        try execute("LISTEN \(channel)")
    }

    /// Sends `payload` on `channel` (delivered when the transaction commits).
    public func notify(_ channel: String, _ payload: String = "") throws {
        try execute("SELECT pg_notify($1, $2)", [channel, payload])
    }

    /// The notifications that arrived, waiting up to `timeout` seconds for the first. A
    /// connection that broke throws, so the listener reconnects.
    public func notifications(waitingUpTo timeout: Double) throws(PGError) -> [PGNotification] {
        var received = drainNotifications()
        if !received.isEmpty { return received }
        var descriptor = pollfd(fd: PQsocket(pointer), events: Int16(POLLIN), revents: 0)
        guard descriptor.fd >= 0 else { throw PGError(sqlState: nil, message: "the connection is closed", connectionLost: true) }
        _ = poll(&descriptor, 1, Int32(timeout * 1000))
        guard PQconsumeInput(pointer) == 1 else {
            throw PGError(sqlState: nil, message: PGError.text(PQerrorMessage(pointer)), connectionLost: true)
        }
        received = drainNotifications()
        return received
    }

    private func drainNotifications() -> [PGNotification] {
        var received: [PGNotification] = []
        while let notice = PQnotifies(pointer) {
            received.append(PGNotification(channel: String(cString: notice.pointee.relname),
                                           payload: String(cString: notice.pointee.extra), senderPID: notice.pointee.be_pid))
            PQfreemem(notice)
        }
        return received
    }
}
