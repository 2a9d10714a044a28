import CollectorStore
import Foundation
import Logging
import NIOPosix

/// What the TLS layer asks about a verified client certificate, at every handshake
/// (resumed sessions included) and again on a kept-alive connection: whether the store
/// refuses it (revoked, or superseded by a renewed certificate already presented), and
/// recording a certificate's first presentation, which retires its predecessor.
struct CertificateCheck: Sendable {
    /// One cached read: runs on the event loop.
    let standing: @Sendable (String) -> CertificateStanding
    /// A write, once per certificate: hands itself to a thread pool, never blocking the loop.
    let presented: @Sendable (String) -> Void

    init(standing: @escaping @Sendable (String) -> CertificateStanding, presented: @escaping @Sendable (String) -> Void) {
        self.standing = standing
        self.presented = presented
    }

    /// Asks `database`; first presentations are written on `pool`.
    init(database: any HistoryStore, pool: NIOThreadPool, logger: Logger) {
        standing = { database.standing(serial: $0) }
        presented = { serial in
            pool.submit { state in
                guard state == .active else { return }
                do { try database.markPresented(serial: serial, at: Int64(Date().timeIntervalSince1970)) } catch {
                    // Asked again at the next handshake: still unmarked.
                    logger.error("could not record a certificate's first use", metadata: ["serial": "\(serial)", "reason": "\(error)"])
                }
            }
        }
    }

    /// Whether `serial` is refused now.
    func isRefused(_ serial: String) -> Bool { standing(serial).isRefused }
}
