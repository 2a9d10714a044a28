import CollectorClient
import CollectorStore
import Foundation
import OpenSSLCrypto
import OpenSSLTLS
import PortwardenModel
import PortwardenTestSupport
import StateFiles
import Testing

/// The `portwarden` executable as an operator runs it: ca init, enroll sign, serve —
/// and a collector killed with SIGKILL while reports stream in.
@Suite(.serialized)
struct ServeTests {
    static let portwarden = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        .deletingLastPathComponent().appendingPathComponent("portwarden").path

    let state: String = FileManager.default.temporaryDirectory.appendingPathComponent("pw-collector-\(UUID().uuidString)").path

    static let agent = URL(fileURLWithPath: portwarden).deletingLastPathComponent().appendingPathComponent("portwarden-agent").path

    func portwarden(_ arguments: [String]) throws -> (status: Int32, output: String) {
        try execute(Self.portwarden, arguments)
    }

    func execute(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        try runProcess(executable, arguments)
    }

    /// `portwarden serve` in the background, once it answers; `extra` arguments added
    /// (without --policies, --no-policy: serve refuses to start with no policy unasked),
    /// run with at most `descriptors` open files (soft and hard), its log to `log`.
    func serve(port: Int, _ extra: [String] = [], descriptors: Int? = nil, log: String? = nil) throws -> Process {
        let process = Process()
        let arguments = ["serve", "--state-dir", state, "--listen", "127.0.0.1:\(port)"] + extra
            + (extra.contains("--policies") ? [] : ["--no-policy"])
        if let descriptors {
            // The shell sets both limits and becomes the collector: its pid is serve's.
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "ulimit -n \(descriptors) && exec \"$0\" \"$@\"", Self.portwarden] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: Self.portwarden)
            process.arguments = arguments
        }
        process.standardOutput = FileHandle.nullDevice
        if let log {
            _ = FileManager.default.createFile(atPath: log, contents: nil)
            process.standardError = FileHandle(forWritingAtPath: log)
        } else {
            process.standardError = FileHandle.nullDevice
        }
        try process.run()
        for _ in 0..<100 {
            if let fd = try? TCP.connect(host: "127.0.0.1", port: UInt16(port), timeout: 1) {
                close(fd)
                return process
            }
            usleep(50_000)
        }
        process.terminate()
        throw CancellationError()
    }

    /// A host enrolled the operator's way: key here, CSR signed by `portwarden enroll sign`.
    func enroll(_ name: String) throws -> TLSContext {
        let key = try PrivateKey.generate()
        let csrPath = state + "/\(name).csr", certPath = state + "/\(name).pem"
        try StateFile.write(try CertificateRequest(key: key, commonName: name).pem(), to: csrPath, mode: 0o644)
        let (status, output) = try portwarden(["enroll", "sign", csrPath, "--state-dir", state, "--output", certPath])
        try #require(status == 0, "\(output)")
        return try TLSContext.client(trust: Certificate(pem: StateFile.read(state + "/ca.pem")),
                                     certificate: Certificate(pem: StateFile.read(certPath)), key: key)
    }

    static func report(_ host: String, sequence: UInt64, port: UInt16? = nil) -> [UInt8] {
        // Each report shows one more listener, so each acknowledged one leaves a row (unless
        // `port` is given: then reports with the same port change nothing).
        let snapshot = Snapshot(
            host: Host(hostname: host, machineID: "m", bootID: "b", kernel: nil, os: nil), sequence: sequence,
            collectedAt: "2026-11-25T10:00:00Z", complete: false, ownershipComplete: true, warnings: [], namespaces: [],
            listeners: [Listener(transport: .tcp, family: .ipv4, address: "0.0.0.0", port: port ?? UInt16(1000 + sequence),
                                 scope: .any, netns: 1, hostNetns: true, inode: port.map(UInt64.init) ?? sequence, uid: 0, processes: [])],
            unresolved: [])
        var writer = JSONWriter()
        writer.value(snapshot)
        return writer.buffer
    }

    @Test func caInitWritesKeysPrivatelyAndRefusesToReplaceTheCA() throws {
        defer { try? FileManager.default.removeItem(atPath: state) }
        let (status, output) = try portwarden(["ca", "init", "--state-dir", state, "--name", "collector.example"])
        #expect(status == 0, "\(output)")
        for (file, mode) in [("ca.key", 0o600), ("server.key", 0o600), ("ca.pem", 0o644), ("server.pem", 0o644)] {
            let attributes = try FileManager.default.attributesOfItem(atPath: state + "/" + file)
            #expect((attributes[.posixPermissions] as? Int) == mode, "\(file)")
        }
        let dir = try FileManager.default.attributesOfItem(atPath: state)
        #expect((dir[.posixPermissions] as? Int) == 0o700)
        let again = try portwarden(["ca", "init", "--state-dir", state])
        #expect(again.status != 0)
        #expect(again.output.contains("already exists"))
    }

    @Test func everyAcknowledgedReportSurvivesAKill() async throws {
        defer { try? FileManager.default.removeItem(atPath: state) }
        try #require(try portwarden(["ca", "init", "--state-dir", state, "--name", "127.0.0.1"]).status == 0)
        let context = try enroll("web-01")
        let port = try unusedPort()
        let first = try serve(port: port)

        // Report until a little after the kill; remember what was acknowledged.
        let connection = CollectorConnection(host: "127.0.0.1", port: UInt16(port), context: context, timeout: 5)
        var acknowledged: [UInt64] = []
        var sequence: UInt64 = 0
        let killAfter = 40
        while true {
            sequence += 1
            if sequence == UInt64(killAfter) { kill(first.processIdentifier, SIGKILL) }
            guard let response = try? connection.post("/v1/reports", body: Self.report("web-01", sequence: sequence)) else { break }
            if response.status == 200 { acknowledged.append(sequence) }
        }
        first.waitUntilExit()
        #expect(acknowledged.count >= killAfter - 2)

        let second = try serve(port: port)
        defer { second.terminate(); second.waitUntilExit() }
        let resent = try connection.post("/v1/reports", body: Self.report("web-01", sequence: acknowledged.last!))
        #expect(resent.text.contains("duplicate"), "the last acknowledged report is known after the restart")

        let database = try CollectorDatabase.open(path: state + "/portwarden.sqlite")
        let stored = try database.openListeners(host: "web-01").map { UInt64($0.port - 1000) }
        #expect(Set(acknowledged).isSubset(of: Set(stored)), "every acknowledged report is in the history")
        #expect(try database.integrityProblems() == [])
    }

    @Test func aRevokedHostIsRefusedAtItsNextConnection() throws {
        defer { try? FileManager.default.removeItem(atPath: state) }
        try #require(try portwarden(["ca", "init", "--state-dir", state, "--name", "127.0.0.1"]).status == 0)
        let web = try enroll("web-01"), db = try enroll("db-01")
        let port = try unusedPort()
        let server = try serve(port: port)
        defer { server.terminate(); server.waitUntilExit() }
        func post(_ context: TLSContext, _ host: String, _ sequence: UInt64) throws -> HTTPResponse {
            try CollectorConnection(host: "127.0.0.1", port: UInt16(port), context: context, timeout: 5)
                .post("/v1/reports", body: Self.report(host, sequence: sequence))
        }
        #expect(try post(web, "web-01", 1).status == 200)

        let revoked = try portwarden(["hosts", "revoke", "web-01", "--state-dir", state])
        #expect(revoked.status == 0, "\(revoked.output)")
        #expect(revoked.output.contains("revoked 1 certificate of web-01"))
        #expect(throws: (any Error).self, "the revoked certificate is refused") { try post(web, "web-01", 2) }
        #expect(try post(db, "db-01", 1).status == 200, "other hosts are untouched")
        #expect(try portwarden(["hosts", "revoke", "nobody", "--state-dir", state]).status != 0)
    }

    @Test func hostsEnrollThemselvesWithTheSecret() async throws {
        defer { try? FileManager.default.removeItem(atPath: state) }
        try #require(try portwarden(["ca", "init", "--state-dir", state, "--name", "127.0.0.1"]).status == 0)
        let (status, output) = try portwarden(["enroll", "secret", "--state-dir", state])
        #expect(status == 0)
        let secret = output.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(secret.count == 64)
        #expect(!FileManager.default.fileExists(atPath: state + "/enroll.secret"), "the collector keeps only a digest")
        let history = try CollectorDatabase.open(path: state + "/portwarden.sqlite")
        let stored = try history.credential(digest: Digest.sha256(Array(secret.utf8)))
        #expect(stored?.kind == .secret && stored?.revokedAt == nil, "the secret is known by its digest")
        #expect(try history.tokens().isEmpty)

        let port = try unusedPort()
        let server = try serve(port: port)
        defer { server.terminate(); server.waitUntilExit() }
        let ca = try Certificate(pem: StateFile.read(state + "/ca.pem"))
        let newcomer = CollectorConnection(host: "127.0.0.1", port: UInt16(port), context: try TLSContext.client(trust: ca),
                                           timeout: 5)
        let key = try PrivateKey.generate()
        let result = try newcomer.enroll(csr: try CertificateRequest(key: key, commonName: "web-07").pem(), secret: secret)
        guard case .issued(let pem, _) = result else { Issue.record("not issued: \(result)"); return }
        #expect(try Certificate(pem: pem).commonName == "web-07")
        #expect(try portwarden(["enroll", "approve", "web-07", "--state-dir", state]).status != 0, "nothing waits")
    }

    @Test func afterSigtermTheDatabaseFileAloneHoldsEverything() throws {
        // What an operator backs up before an upgrade: portwarden.sqlite, copied alone.
        defer { try? FileManager.default.removeItem(atPath: state) }
        try #require(try portwarden(["ca", "init", "--state-dir", state, "--name", "127.0.0.1"]).status == 0)
        let context = try enroll("web-01")
        let port = try unusedPort()
        let server = try serve(port: port)
        let connection = CollectorConnection(host: "127.0.0.1", port: UInt16(port), context: context, timeout: 5)
        for sequence in 1...3 as ClosedRange<UInt64> {
            #expect(try connection.post("/v1/reports", body: Self.report("web-01", sequence: sequence)).status == 200)
        }
        server.terminate()
        server.waitUntilExit()
        let copy = state + "/backup"
        try FileManager.default.createDirectory(atPath: copy, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: state + "/portwarden.sqlite", toPath: copy + "/portwarden.sqlite")
        let restored = try HistoryStores.existing(copy + "/portwarden.sqlite")
        #expect(try restored.openListeners(host: "web-01").count == 3, "the copy lacks what the write-ahead log held")
    }

    @Test func sigtermStopsTheCollectorCleanly() throws {
        defer { try? FileManager.default.removeItem(atPath: state) }
        try #require(try portwarden(["ca", "init", "--state-dir", state, "--name", "127.0.0.1"]).status == 0)
        let server = try serve(port: try unusedPort())
        server.terminate()  // SIGTERM
        server.waitUntilExit()
        #expect(server.terminationReason == .exit)
        #expect(server.terminationStatus == 0)
    }
}

/// Runs a binary to its end, in `directory` when given: its exit status and everything it
/// printed, stdout and stderr.
func runProcess(_ executable: String, _ arguments: [String], in directory: String? = nil) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}
