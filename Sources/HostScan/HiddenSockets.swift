import PortwardenModel
import ProcFS

/// Sockets that processes hold but no table listed: made in a namespace no process is in
/// any more (one left by `setns`, or deleted by name), or opened after its namespace's
/// table was read. Unix and netlink sockets are told apart by name; each TCP/UDP one is
/// asked directly through a duplicate of its descriptor.
struct HiddenSockets {
    var listeners: [Listener] = []
    var unresolved: [(inode: UInt64, kind: String?, reason: String)] = []

    init(procfs: ProcFS, walk: DescriptorWalk, accounted: Set<UInt64>, hostNetns: UInt64?) {
        let live = procfs.isLive
        walk.forEachSocket { inode, holders in
            guard !accounted.contains(inode) else { return }
            resolve(inode: inode, holders: holders, procfs: procfs, live: live, hostNetns: hostNetns)
        }
        listeners.sort { $0.inode < $1.inode }
        unresolved.sort { $0.inode < $1.inode }
    }

    private static let inetKinds: Set<String> = ["TCP", "TCPv6", "UDP", "UDPv6", "UDP-Lite", "UDPLITE", "UDPLITEv6", "MPTCP", "MPTCPv6"]

    private mutating func resolve(inode: UInt64, holders: ArraySlice<DescriptorWalk.Holder>, procfs: ProcFS, live: Bool,
                                  hostNetns: UInt64?) {
        var kind: String?
        var failure: String?
        guard live else {
            // A fixture tree's links point nowhere: nothing to ask, so say so.
            unresolved.append((inode, nil, "not the live /proc: the socket cannot be asked"))
            return
        }
        for holder in holders {
            do throws(ProcFSError) {
                kind = try procfs.socketKind(pid: holder.pid, fd: holder.fd)
                // Unix, netlink, packet sockets: never a TCP/UDP listener.
                if let kind, !Self.inetKinds.contains(kind) { return }
            } catch .notFound {
                continue  // this holder closed it or exited; another may still hold it
            } catch {
                // Unknown kind: ask the socket itself below.
            }
            switch SocketProbe.probe(pid: holder.pid, fd: holder.fd, inode: inode) {
            case .listener(let found):
                listeners.append(Listener(found.transport, boundTo: found.address, port: found.port,
                                          netns: found.netns ?? 0, hostNetns: hostNetns, inode: inode, uid: found.uid,
                                          foundBy: .pidfd))
                return
            case .notListener:
                return
            case .gone:
                continue
            case .failed(let reason):
                failure = reason
            }
        }
        // Every holder gone: the socket closed during the scan, nothing to report.
        guard let failure else { return }
        unresolved.append((inode, kind, failure))
    }
}
