// listen-fixture: opens the sockets that the live tests and the benchmark look for,
// prints what it opened, then waits to be killed.
//
//   listen-fixture [--fork] [--hidden-netns] [--extra-fds N] SPEC... [-- ARG...]
//   SPEC: tcp4:ADDR:PORT | tcp6:[ADDR]:PORT | udp4:… | udp6:…   (PORT 0 = any free port)
//
// --fork          after opening, fork a child that holds the same sockets
// --hidden-netns  open the sockets in a new network namespace, then return to the
//                 original one: the namespace lives on only through the sockets
// --extra-fds N   also hold N descriptors of /dev/null (to make fd tables bigger)
// -- ARG...       ignored: only carried in the command line, for the scan to read
//                 (a password to redact, a megabyte of arguments to cut)
//
// Prints one line: `pid=P child=C netns=N sockets=tcp4:0.0.0.0:557:INODE,...`
import CLinuxShims
import Glibc

func fail(_ message: String) -> Never {
    let line = "listen-fixture: \(message)\n"
    _ = line.withCString { write(2, $0, strlen($0)) }
    exit(2)
}

var arguments = CommandLine.arguments.dropFirst()
var fork = false, hidden = false, extraFDs = 0
var specs: [String] = []
while let argument = arguments.popFirst() {
    switch argument {
    case "--fork": fork = true
    case "--hidden-netns": hidden = true
    case "--extra-fds":
        guard let count = Int(arguments.popFirst() ?? "") else { fail("--extra-fds needs a number") }
        extraFDs = count
    case "--": arguments.removeAll()
    default: specs.append(argument)
    }
}
if specs.isEmpty { fail("usage: listen-fixture [--fork] [--hidden-netns] [--extra-fds N] tcp4:0.0.0.0:0 ...") }

func netnsInode() -> UInt64 {
    var st = stat()
    return stat("/proc/self/ns/net", &st) == 0 ? UInt64(st.st_ino) : 0
}

let original = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)
if hidden {
    guard pw_unshare_net() == 0 else { fail("unshare(CLONE_NEWNET): \(String(cString: strerror(errno)))") }
}
let socketNetns = netnsInode()

var opened: [String] = []
for spec in specs {
    let parts = spec.split(separator: ":", maxSplits: 1)
    guard parts.count == 2, let portStart = parts[1].lastIndex(of: ":") else { fail("bad spec \(spec)") }
    let kind = String(parts[0])
    var host = String(parts[1][..<portStart])
    guard let port = UInt16(parts[1][parts[1].index(after: portStart)...]) else { fail("bad port in \(spec)") }
    if host.hasPrefix("[") { host = String(host.dropFirst().dropLast()) }
    let v6 = kind.hasSuffix("6")
    let tcp = kind.hasPrefix("tcp")
    let fd = socket(v6 ? AF_INET6 : AF_INET, Int32(tcp ? SOCK_STREAM.rawValue : SOCK_DGRAM.rawValue), 0)
    guard fd >= 0 else { fail("socket: \(String(cString: strerror(errno)))") }
    var one: Int32 = 1
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
    var result: Int32
    if v6 {
        var sin6 = sockaddr_in6()
        sin6.sin6_family = sa_family_t(AF_INET6)
        sin6.sin6_port = port.bigEndian
        guard inet_pton(AF_INET6, host, &sin6.sin6_addr) == 1 else { fail("bad IPv6 address \(host)") }
        result = withUnsafePointer(to: &sin6) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
        }
    } else {
        var sin = sockaddr_in()
        sin.sin_family = sa_family_t(AF_INET)
        sin.sin_port = port.bigEndian
        guard inet_pton(AF_INET, host, &sin.sin_addr) == 1 else { fail("bad IPv4 address \(host)") }
        result = withUnsafePointer(to: &sin) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
    }
    guard result == 0 else { fail("bind \(spec): \(String(cString: strerror(errno)))") }
    if tcp { guard listen(fd, 16) == 0 else { fail("listen \(spec): \(String(cString: strerror(errno)))") } }
    var storage = sockaddr_storage()
    var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
    _ = withUnsafeMutablePointer(to: &storage) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    let bound = withUnsafeBytes(of: storage) { raw in
        v6 ? UInt16(bigEndian: raw.load(as: sockaddr_in6.self).sin6_port)
            : UInt16(bigEndian: raw.load(as: sockaddr_in.self).sin_port)
    }
    var st = stat()
    fstat(fd, &st)
    opened.append("\(kind):\(v6 ? "[\(host)]" : host):\(bound):\(st.st_ino)")
}

if hidden {
    guard pw_setns_net(original) == 0 else { fail("setns back: \(String(cString: strerror(errno)))") }
}
for _ in 0..<extraFDs { _ = open("/dev/null", O_RDONLY) }

var child: pid_t = 0
if fork {
    child = Glibc.fork()
    if child == 0 {
        _ = pw_die_with_parent()
        while true { pause() }
    }
}
let line = "pid=\(getpid()) child=\(child) netns=\(socketNetns) sockets=\(opened.joined(separator: ","))\n"
_ = line.withCString { write(1, $0, strlen($0)) }
// Killing the parent takes the child with it (PR_SET_PDEATHSIG).
while true { pause() }
