import CollectorClient
import Foundation
import OpenSSLTLS
import PortwardenTestSupport
import Testing

/// `portwarden serve` under hostile input while a good agent reports: the agent's
/// reports keep their latency and the collector's memory stays bounded.
extension ServeTests {
    /// The resident set of a process, in bytes, from /proc/PID/status.
    static func residentBytes(_ pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kB = Int(line.split(separator: " ", omittingEmptySubsequences: true)[1])
        else { return nil }
        return kB << 10
    }

    /// Runs `body` on a thread of its own until `stop` is set.
    final class Background: @unchecked Sendable {
        private let lock = NSLock()
        private var stopped = false
        private let done = DispatchSemaphore(value: 0)

        init(_ body: @escaping @Sendable (Background) -> Void) {
            Thread { body(self); self.done.signal() }.start()
        }

        var isStopped: Bool { lock.withLock { stopped } }

        /// Stops it and waits for its end; again, does nothing.
        func stop() {
            let first = lock.withLock { () -> Bool in
                defer { stopped = true }
                return !stopped
            }
            if first { done.wait() }
        }
    }

    final class Samples: @unchecked Sendable {
        private let lock = NSLock()
        private var values: [Double] = []
        private(set) var failures: [String] = []
        func add(_ value: Double) { lock.withLock { values.append(value) } }
        func fail(_ why: String) { lock.withLock { failures.append(why) } }
        var all: [Double] { lock.withLock { values } }
        func percentile(_ p: Double) -> Double {
            let sorted = all.sorted()
            return sorted.isEmpty ? .infinity : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
        }
    }

    @Test func hostileInputLeavesAGoodAgentServedAndMemoryBounded() async throws {
        defer { try? FileManager.default.removeItem(atPath: state) }
        var limit = rlimit()
        getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
        limit.rlim_cur = limit.rlim_max
        setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
        try #require(limit.rlim_cur >= 1_200, "500 connections need descriptors; the hard limit is \(limit.rlim_max)")

        try #require(try portwarden(["ca", "init", "--state-dir", state, "--name", "127.0.0.1"]).status == 0)
        let context = try enroll("web-01")
        let port = try unusedPort()
        let server = try serve(port: port)
        defer { server.terminate(); server.waitUntilExit() }
        let pid = server.processIdentifier
        let connection = CollectorConnection(host: "127.0.0.1", port: UInt16(port), context: context, timeout: 10)
        #expect(try connection.post("/v1/reports", body: Self.report("web-01", sequence: 1)).status == 200)
        let baseline = try #require(Self.residentBytes(pid))

        // The good agent: a report every 20 ms, each timed.
        let latencies = Samples()
        let agent = Background { me in
            var sequence: UInt64 = 1
            while !me.isStopped {
                sequence += 1
                let started = Date()
                do {
                    let response = try connection.post("/v1/reports", body: Self.report("web-01", sequence: sequence))
                    if response.status != 200 { latencies.fail("\(sequence): \(response.status) \(response.text)") }
                } catch {
                    latencies.fail("\(sequence): \(error)")
                }
                latencies.add(Date().timeIntervalSince(started))
                usleep(20_000)
            }
        }
        let peak = Samples()
        let sampler = Background { me in
            while !me.isStopped {
                if let rss = Self.residentBytes(pid) { peak.add(Double(rss)) }
                usleep(50_000)
            }
        }

        // 500 connections that start a handshake and never finish it: a record header
        // announcing 512 bytes of ClientHello, then nothing.
        var slow: [Int32] = []
        defer { slow.forEach { close($0) } }
        for _ in 0..<500 {
            let fd = try TCP.connect(host: "127.0.0.1", port: UInt16(port), timeout: 5)
            let header: [UInt8] = [0x16, 0x03, 0x01, 0x02, 0x00, 0x01]
            _ = header.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            slow.append(fd)
        }
        usleep(300_000)
        let open = try connection.get("/metrics").text
        #expect(open.contains("portwarden_open_connections 50") || open.contains("portwarden_open_connections 49"),
                "the slow connections are held, and counted: \(open.split(separator: "\n").filter { $0.hasPrefix("portwarden_open") })")

        // Garbage on the TLS port: refused in the handshake, the connection closed.
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20 {
            let fd = try TCP.connect(host: "127.0.0.1", port: UInt16(port), timeout: 5)
            var junk = (0..<4096).map { _ in UInt8.random(in: 0...255, using: &generator) }
            // Random bytes that happen to begin like a TLS record (0x16 0x03 …) would make
            // OpenSSL wait for the rest of that record, up to the header timeout: start
            // with a byte no TLS record begins with, so every one is refused at once.
            junk[0] = 0x00
            _ = junk.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            var buffer = [UInt8](repeating: 0, count: 4096)
            var closed = false
            for _ in 0..<10 {
                let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n <= 0 { closed = n == 0 || errno == ECONNRESET; break }
            }
            #expect(closed, "garbage closes the connection")
            close(fd)
        }

        // 100 MB declared: 413 at the head, and the connection closed before the body.
        let declared = try TLSSocket.connect(host: "127.0.0.1", port: UInt16(port), context: context, timeout: 10)
        try declared.write(Array("POST /v1/reports HTTP/1.1\r\nHost: x\r\nContent-Length: \(100 << 20)\r\n\r\n".utf8))
        let tooLarge = try HTTPResponse.read(from: declared)
        #expect(tooLarge.status == 413, "\(tooLarge.status) \(tooLarge.text)")
        let chunk = [UInt8](repeating: 0x20, count: 64 << 10)
        var sentAfterRefusal = 0
        while sentAfterRefusal < 100 << 20, (try? declared.write(chunk)) != nil { sentAfterRefusal += chunk.count }
        #expect(sentAfterRefusal < 8 << 20, "the collector stopped reading: \(sentAfterRefusal) bytes went after the 413")

        // 100 MB chunked (no length to refuse early): cut off once past the 4 MiB limit.
        let chunked = try TLSSocket.connect(host: "127.0.0.1", port: UInt16(port), context: context, timeout: 10)
        try chunked.write(Array("POST /v1/reports HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".utf8))
        var sentChunked = 0
        let framed = Array("10000\r\n".utf8) + chunk + Array("\r\n".utf8)
        while sentChunked < 100 << 20, (try? chunked.write(framed)) != nil { sentChunked += chunk.count }
        #expect(sentChunked < 32 << 20, "\(sentChunked) bytes of a chunked body were taken")

        // A valid client, malformed JSON: 400 naming the byte.
        let malformed = try connection.post("/v1/reports", body: Array("{\"schema\": 1, \"host\": {\"hostname\": web".utf8))
        #expect(malformed.status == 400 && malformed.text.contains("at byte 35 (host.hostname): expected a string"), "\(malformed.status) \(malformed.text)")
        // Nested a million deep, in arrays and in objects: 400, no crash.
        let arrays = Array("{\"schema\":1,\"x\":".utf8) + [UInt8](repeating: UInt8(ascii: "["), count: 1_000_000)
        let nestedArrays = try connection.post("/v1/reports", body: arrays)
        #expect(nestedArrays.status == 400 && nestedArrays.text.contains("nest"), "\(nestedArrays.status) \(nestedArrays.text)")
        let objects = Array(String(repeating: "{\"a\":", count: 200_000).utf8)
        let nestedObjects = try connection.post("/v1/reports", body: objects)
        #expect(nestedObjects.status == 400, "\(nestedObjects.status) \(nestedObjects.text)")

        usleep(3_000_000)  // the agent reports on while the slow connections still hang
        agent.stop()
        sampler.stop()
        #expect(server.isRunning)
        #expect(latencies.failures.isEmpty, "\(latencies.failures)")
        let p99 = latencies.percentile(0.99), p50 = latencies.percentile(0.5)
        let maxRSS = Int(peak.all.max() ?? 0)
        print("hostile: good agent \(latencies.all.count) reports, p50 \(Int(p50 * 1000)) ms, p99 \(Int(p99 * 1000)) ms; collector RSS \(baseline >> 20) MiB at rest, peak \(maxRSS >> 20) MiB")
        #expect(latencies.all.count >= 20)
        // The issue's bound is a second for every report; quiet, p99 is 13–38 ms
        // (bench/hostile.sh). 250 ms leaves room for a busy CI machine and still fails a
        // collector that lets the flood queue ahead of the good host.
        #expect((latencies.all.max() ?? 0) < 1, "slowest \(latencies.all.max() ?? 0) s")
        #expect(p99 < 0.25, "p99 \(p99) s")
        // Bounded by the 4 MiB report limit (a chunked body is collected up to it, in a
        // buffer that grows by doubling) and 500 TLS connections — not by the 100 MB bodies.
        #expect(maxRSS - baseline < 80 << 20, "RSS grew from \(baseline >> 20) to \(maxRSS >> 20) MiB")
        let metrics = try connection.get("/metrics").text
        #expect(metrics.contains("portwarden_reports_refused_total{reason=\"too_large\"} 2"), "\(metrics)")
        #expect(metrics.contains("portwarden_reports_refused_total{reason=\"bad_request\"} 3"), "\(metrics)")
        let failures = metrics.split(separator: "\n").first { $0.hasPrefix("portwarden_tls_handshake_failures_total ") }
        #expect(failures.flatMap { Int($0.split(separator: " ")[1]) }.map { $0 >= 20 } == true, "\(String(describing: failures))")
    }
}
