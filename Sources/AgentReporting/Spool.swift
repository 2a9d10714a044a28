import Glibc
import OpenSSLTLS

/// Snapshots waiting for the collector, one file each, named by sequence so the oldest
/// sorts first. Bounded by count and bytes: when full, the oldest is dropped and the
/// drop is counted, so the collector hears that something was lost.
public struct Spool: Sendable {
    public let directory: String
    public let maxCount: Int
    public let maxBytes: Int

    public init(directory: String, maxCount: Int = 1_000, maxBytes: Int = 100 << 20) {
        self.directory = directory
        self.maxCount = maxCount
        self.maxBytes = maxBytes
    }

    public struct Entry: Sendable, Equatable {
        public var sequence: UInt64
        public var path: String
        public var bytes: Int
    }

    /// Waiting snapshots, oldest first.
    public func entries() -> [Entry] {
        guard let dir = opendir(directory) else { return [] }
        defer { closedir(dir) }
        var entries: [Entry] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: &entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            guard name.hasSuffix(".json"), let sequence = UInt64(name.dropLast(5)) else { continue }
            var st = stat()
            let path = directory + "/" + name
            guard stat(path, &st) == 0 else { continue }
            entries.append(Entry(sequence: sequence, path: path, bytes: Int(st.st_size)))
        }
        return entries.sorted { $0.sequence < $1.sequence }
    }

    /// Adds a snapshot, first dropping the oldest while the bounds would be exceeded.
    /// Returns how many were dropped.
    @discardableResult
    public func add(_ body: [UInt8], sequence: UInt64) throws -> Int {
        var waiting = entries()
        var dropped = 0
        while !waiting.isEmpty,
              waiting.count + 1 > maxCount || waiting.reduce(0, { $0 + $1.bytes }) + body.count > maxBytes {
            unlink(waiting.removeFirst().path)
            dropped += 1
        }
        if dropped > 0 { try recordDrops(dropped) }
        let name = String(repeating: "0", count: max(0, 20 - String(sequence).count)) + String(sequence)
        try FileWriting.write(String(decoding: body, as: UTF8.self), to: directory + "/\(name).json", mode: 0o600)
        return dropped
    }

    public func remove(_ entry: Entry) { unlink(entry.path) }

    public func read(_ entry: Entry) throws -> [UInt8] { Array(try FileWriting.read(entry.path).utf8) }

    /// Snapshots dropped since the count was last taken (and reset by `takeDrops`).
    public func takeDrops() -> Int {
        let count = drops.value
        if count > 0 { unlink(drops.path) }
        return Int(count)
    }

    private func recordDrops(_ more: Int) throws { _ = try drops.add(UInt64(more)) }

    private var drops: CounterFile { CounterFile(path: directory + "/dropped") }
}
