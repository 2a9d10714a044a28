import Glibc

/// A TCP socket bound to 127.0.0.1 on a port the kernel picked, and that port; nil when
/// the kernel refused.
public func loopbackSocket() -> (fd: Int32, port: UInt16)? {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard bound else { close(fd); return nil }
    return (fd, UInt16(bigEndian: address.sin_port))
}

/// A loopback port nothing listens on (the kernel picked it, and it was let go).
public func unusedPort() throws -> Int {
    guard let (fd, port) = loopbackSocket() else { return 0 }
    close(fd)
    return Int(port)
}
