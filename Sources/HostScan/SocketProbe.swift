import CLinuxShims
import Glibc
import PortwardenModel
import ProcFS

/// Asks a socket held by another process about itself, through a duplicate of its
/// descriptor (`pidfd_getfd`, Linux ≥ 5.6, needs ptrace rights over the holder).
/// This is how a listener in a namespace that no process has entered is still found.
enum SocketProbe {
    struct Found: Equatable {
        var transport: Transport
        var address: IPAddress
        var port: UInt16
        var netns: UInt64?
        var uid: UInt32
    }

    enum Outcome: Equatable {
        case listener(Found)
        case notListener
        /// The process or descriptor went away, or the fd now holds something else.
        case gone
        case failed(String)
    }

    static func probe(pid: Int32, fd: Int32, inode: UInt64) -> Outcome {
        let pidfd = pw_pidfd_open(pid)
        guard pidfd >= 0 else { return errno == ESRCH ? .gone : .failed("pidfd_open(\(pid)): \(describe(errno))") }
        defer { close(pidfd) }
        let sock = pw_pidfd_getfd(pidfd, fd)
        guard sock >= 0 else {
            switch errno {
            case EBADF, ESRCH: return .gone
            case ENOSYS: return .failed("pidfd_getfd is not available (Linux 5.6 or later is needed)")
            case EPERM: return .failed("pidfd_getfd(\(pid), \(fd)) refused: ptrace rights over the holder are needed (run as root)")
            default: return .failed("pidfd_getfd(\(pid), \(fd)): \(describe(errno))")
            }
        }
        defer { close(sock) }
        var st = stat()
        guard fstat(sock, &st) == 0, UInt64(st.st_ino) == inode else { return .gone }

        guard let domain = option(sock, SO_DOMAIN), domain == AF_INET || domain == AF_INET6,
              let proto = option(sock, SO_PROTOCOL)
        else { return .notListener }
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let named = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(sock, $0, &length) }
        }
        guard named == 0, let (address, port) = endpoint(storage) else {
            return .failed("getsockname on socket \(inode): \(describe(errno))")
        }
        let transport: Transport
        switch Int32(proto) {
        case Int32(IPPROTO_TCP):
            guard option(sock, SO_ACCEPTCONN) == 1 else { return .notListener }
            transport = .tcp
        case Int32(IPPROTO_UDP), Int32(IPPROTO_UDPLITE):
            var peer = sockaddr_storage()
            var peerLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let connected = withUnsafeMutablePointer(to: &peer) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(sock, $0, &peerLength) }
            } == 0
            guard port != 0, !connected else { return .notListener }
            transport = .udp
        default:
            return .notListener
        }
        var netns: UInt64?
        let nsfd = pw_socket_netns(sock)
        if nsfd >= 0 {
            var nsStat = stat()
            if fstat(nsfd, &nsStat) == 0 { netns = UInt64(nsStat.st_ino) }
            close(nsfd)
        }
        return .listener(Found(transport: transport, address: address, port: port, netns: netns, uid: st.st_uid))
    }

    private static func option(_ sock: Int32, _ name: Int32) -> Int32? {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        return getsockopt(sock, SOL_SOCKET, name, &value, &length) == 0 ? value : nil
    }

    private static func endpoint(_ storage: sockaddr_storage) -> (IPAddress, UInt16)? {
        let family = Int32(storage.ss_family)
        return withUnsafeBytes(of: storage) { raw -> (IPAddress, UInt16)? in
            switch family {
            case AF_INET:
                let sin = raw.load(as: sockaddr_in.self)
                let b = withUnsafeBytes(of: sin.sin_addr.s_addr) { Array($0) }
                return (.v4(b[0], b[1], b[2], b[3]), UInt16(bigEndian: sin.sin_port))
            case AF_INET6:
                let sin6 = raw.load(as: sockaddr_in6.self)
                return (.v6(withUnsafeBytes(of: sin6.sin6_addr) { Array($0) }), UInt16(bigEndian: sin6.sin6_port))
            default:
                return nil
            }
        }
    }

    static func describe(_ code: Int32) -> String { String(cString: strerror(code)) }
}
