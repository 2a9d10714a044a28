import Foundation
import Testing
@testable import ProcFS

/// Reading through an injectable root: fixture trees, missing files, chunked tables.
struct ProcFSReadingTests {
    @Test func readsEveryTableOfAFixtureNamespace() throws {
        let fs = FixtureTree.proc
        let tcp = try fs.netTable(.tcp, pid: "1")
        #expect(tcp.errors.isEmpty)
        #expect(tcp.entries.map(\.inode) == [1001, 1003, 1004])
        let tcp6 = try fs.netTable(.tcp6, pid: "1")
        #expect(tcp6.entries.map(\.localAddress.description) == ["::", "::1", "2001:db8::1"])
        let udp = try fs.netTable(.udp, pid: "1")
        #expect(udp.entries.filter { $0.isListener(in: .udp) }.map(\.localPort) == [111])
        let udp6 = try fs.netTable(.udp6, pid: "1")
        #expect(udp6.entries.isEmpty && udp6.errors.isEmpty)
    }

    @Test func brokenFixtureReportsEachBadLineAndKeepsTheRest() throws {
        let tcp = try FixtureTree.broken.netTable(.tcp, pid: "1")
        #expect(tcp.entries.map(\.inode) == [1001, 1003])
        #expect(tcp.errors.map(\.line) == [3, 4])
        #expect(tcp.errors.allSatisfy { $0.file.hasSuffix("proc-broken/1/net/tcp") })
    }

    @Test func missingFileIsNotFound() {
        #expect(throws: ProcFSError.notFound(FixtureTree.broken.path("1/net/udp"))) {
            try FixtureTree.broken.netTable(.udp, pid: "1")
        }
        #expect(throws: ProcFSError.self) { try FixtureTree.proc.status(pid: 4242) }
    }

    @Test func linesSplitAcrossChunksArriveWhole() throws {
        let fs = FixtureTree.proc
        var whole: [String] = []
        try fs.forEachLine("1/net/tcp6") { whole.append(String(decoding: $0, as: UTF8.self)) }
        for chunk in [200, 257, 300, 1000] {
            var pieces: [String] = []
            try fs.forEachLine("1/net/tcp6", chunk: chunk) { pieces.append(String(decoding: $0, as: UTF8.self)) }
            #expect(pieces == whole, "chunk \(chunk)")
        }
        #expect(whole.count == 4)
    }

    /// A file longer than wanted is read no further than wanted (plus one byte to know).
    @Test func readingStopsAtItsBound() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("procfs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data(repeating: 0x61, count: 10_000).write(to: dir.appendingPathComponent("big"))
        let procfs = ProcFS(root: dir.path)
        #expect(try procfs.read("big", upTo: 4_097).count == 4_097)
        #expect(try procfs.read("big", upTo: 20_000).count == 10_000)
        #expect(try procfs.read("big", limit: 10_000).count == 10_000)
        #expect(throws: ProcFSError.tooLarge(dir.path + "/big", limit: 9_999)) { try procfs.read("big", limit: 9_999) }
    }

    @Test func socketLinksOfAProcess() throws {
        var sockets: [Int32: UInt64] = [:]
        try FixtureTree.proc.forEachSocket(pid: 201) { fd, inode in sockets[fd] = inode }
        #expect(sockets == [3: 1001, 4: 1002, 7: 1001])
        #expect(try FixtureTree.proc.networkNamespace(of: "300") == 4026532500)
        #expect(try FixtureTree.proc.exe(pid: 201) == "/usr/sbin/sshd (deleted)")
        #expect(try FixtureTree.proc.cmdline(pid: 300) == ProcessCmdline(arguments: ["/opt/vms/bin/vmsd", "--port", "557"], isCut: false))
        #expect(try FixtureTree.proc.pids().sorted() == [1, 200, 201, 250, 260, 300])
        #expect(!FixtureTree.proc.isLive)
        #expect(ProcFS().isLive)
    }

    @Test(arguments: [
        ("socket:[1234]", "socket", UInt64?(1234)),
        ("net:[4026531840]", "net", 4026531840),
        ("socket:[]", "socket", nil),
        ("socket:[12a]", "socket", nil),
        ("pipe:[1234]", "socket", nil),
        ("/dev/null", "socket", nil),
        ("anon_inode:[eventfd]", "socket", nil),
    ] as [(String, String, UInt64?)])
    func inodeLinks(link: String, kind: String, inode: UInt64?) {
        let parsed = kind == "net" ? InodeLink.inode(Array(link.utf8), kind: "net") : InodeLink.inode(Array(link.utf8), kind: "socket")
        #expect(parsed == inode)
    }
}
