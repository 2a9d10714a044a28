import Glibc
import StateFiles

/// Snapshots waiting for the collector, one file each, named by sequence so the oldest
/// sorts first. Bounded by count and bytes: when full, the oldest is dropped and the
/// drop is counted, so the collector hears that something was lost. A file that is not
/// a snapshot, or one the collector refused for good, is set aside in `rejected/`.
/// Files are read without following links and written by rename (StateFile): a link
/// planted here is refused, never read or written through.
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
        var entries: [Entry] = []
        for name in files(suffix: ".json") {
            guard let sequence = UInt64(name.dropLast(5)) else { continue }
            var st = stat()
            let path = directory + "/" + name
            guard lstat(path, &st) == 0 else { continue }
            entries.append(Entry(sequence: sequence, path: path, bytes: Int(st.st_size)))
        }
        return entries.sorted { $0.sequence < $1.sequence }
    }

    /// Names in the directory ending in `suffix`, sorted (zero-padded: oldest first).
    func files(suffix: String) -> [String] {
        guard let dir = opendir(directory) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: &entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name.hasSuffix(suffix) { names.append(name) }
        }
        return names.sorted()
    }

    /// Adds a snapshot, first dropping the oldest while the bounds would be exceeded.
    /// Returns how many were dropped.
    @discardableResult
    public func add(_ body: [UInt8], sequence: UInt64) throws -> Int {
        var waiting = entries()
        var dropped = 0
        while !waiting.isEmpty,
              waiting.count + 1 > maxCount || waiting.reduce(0, { $0 + $1.bytes }) + body.count > maxBytes {
            remove(waiting.removeFirst())
            dropped += 1
        }
        if dropped > 0 { try recordDrops(dropped) }
        let name = String(repeating: "0", count: max(0, 20 - String(sequence).count)) + String(sequence)
        try StateFile.write(bytes: body, to: directory + "/\(name).json", mode: 0o600)
        return dropped
    }

    public func remove(_ entry: Entry) {
        unlink(entry.path)
        failures(entry).remove()
    }

    public func read(_ entry: Entry) throws -> [UInt8] { try StateFile.readBytes(entry.path, followingLinks: false) }

    /// Replaces an entry's file (with its trimmed version).
    public func replace(_ entry: Entry, with body: [UInt8]) throws {
        try StateFile.write(bytes: body, to: entry.path, mode: 0o600)
    }

    /// How often delivering `entry` failed in a way that may be the entry's fault.
    public func failureCount(_ entry: Entry) -> Int { Int((try? failures(entry).value()) ?? 0) }

    /// Counts one more such failure; returns the count.
    public func recordFailure(_ entry: Entry) throws -> Int { Int(try failures(entry).add(1)) }

    private func failures(_ entry: Entry) -> CounterFile { CounterFile(path: entry.path + ".failures") }

    /// Where snapshots that will never be delivered are kept for an operator to look at.
    public var rejectedDirectory: String { directory + "/rejected" }
    /// How many set-aside files are kept; beyond it the oldest go, so a disk that keeps
    /// corrupting files cannot fill up with them.
    static let keptRejected = 20

    /// Moves a snapshot out of the queue into `rejected/` (same name, `.bad` added) and
    /// returns where it went. Falls back to deleting it if it cannot be moved: a file
    /// left in the queue would block every later one.
    @discardableResult
    public func setAside(_ entry: Entry) -> String? {
        failures(entry).remove()
        // A link planted as rejected/ would take the file elsewhere: only a private directory.
        guard (try? PrivateDirectory.prepare(rejectedDirectory, followingLink: false)) != nil else { remove(entry); return nil }
        let name = entry.path.split(separator: "/").last.map(String.init) ?? "\(entry.sequence).json"
        let target = rejectedDirectory + "/" + name + ".bad"
        guard rename(entry.path, target) == 0 else { remove(entry); return nil }
        let kept = Spool(directory: rejectedDirectory).files(suffix: ".json.bad")
        for old in kept.dropLast(Self.keptRejected) { unlink(rejectedDirectory + "/" + old) }
        return target
    }

    /// Snapshots dropped since the count was last taken (and reset by `takeDrops`).
    public func takeDrops() throws -> Int {
        let count = try drops.value()
        if count > 0 { drops.remove() }
        return Int(count)
    }

    private func recordDrops(_ more: Int) throws { _ = try drops.add(UInt64(more)) }

    private var drops: CounterFile { CounterFile(path: directory + "/dropped") }
}
