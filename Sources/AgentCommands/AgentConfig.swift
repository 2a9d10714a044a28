import ConfigFile
import HostScan
import PortwardenModel

/// The agent's config file (Agent/agent.yaml): every setting is also a flag of `run`
/// and `enroll`, and a flag given on the command line wins over the file.
struct AgentConfig {
    /// One `host:port` or a list of them (`CollectorAddresses`); none when not set.
    var collector: [String] = []
    var serverName: String?
    var stateDir: String?
    var interval: Seconds?
    var spoolMaxCount: Int?
    var spoolMaxBytes: Int?
    var procRoot: String?
    /// What the host declares about itself, sent with every snapshot; rules read them only
    /// when they name a label, never as tags.
    var labels: [String: String] = [:]
    /// Names whose values are secrets, redacted on top of `Redaction.defaultPatterns`.
    var redact: [String] = []

    /// What each number may be — in the file and as a flag of `run` alike.
    enum Limits {
        static let interval = 1...86_400
        static let spoolMaxCount = 1...1_000_000
        static let spoolMaxBytes = 1 << 10...Int(1) << 40
    }

    static let keys = ["collector", "server_name", "state_dir", "interval", "spool.max_count", "spool.max_bytes", "proc_root",
                       "labels.*", "redact"]

    init() {}

    init(path: String) throws(ConfigError) {
        let file = try ConfigDocument(path: path)
        try file.requireOnly(Self.keys)
        collector = try file.strings("collector") ?? []
        if let (index, message) = CollectorAddresses.problem(in: collector, flag: false) {
            let at = file.sequences["collector"]?[index].at ?? file.scalars["collector"]?.at ?? file.keys["collector"]
            throw ConfigError(file: path, line: at?.line ?? 0, column: at?.column ?? 0, message: "collector: \(message)")
        }
        serverName = try file.string("server_name")
        stateDir = try file.string("state_dir")
        interval = try file.seconds("interval", in: Limits.interval)
        spoolMaxCount = try file.int("spool.max_count", in: Limits.spoolMaxCount)
        spoolMaxBytes = try file.int("spool.max_bytes", in: Limits.spoolMaxBytes)
        procRoot = try file.string("proc_root")
        // `labels: []` is what a tool writes for an empty list where it meant "none": read as
        // no labels; a list with entries has no names for its values.
        if let listed = file.sequences["labels"], let first = listed.first {
            throw ConfigError(file: path, line: first.at.line, column: first.at.column,
                              message: "labels is a mapping, one \"name: value\" per line (or {name: value}); got a list")
        }
        let labels = file.mapping("labels")
        guard labels.count <= WireLimits.labelsPerHost else {
            throw file.error("labels", "at most \(WireLimits.labelsPerHost) labels are sent with a report; there are \(labels.count)")
        }
        self.labels = Dictionary(labels.map { (WireLimits.cut($0.key), WireLimits.cut($0.value)) }) { first, _ in first }
        redact = try file.strings("redact") ?? []
        do throws(RedactionPatternError) {
            _ = try Redaction(adding: redact)
        } catch {
            let at = file.sequences["redact"]?.first { $0.value == error.pattern }?.at ?? file.scalars["redact"]?.at
            throw ConfigError(file: path, line: at?.line ?? 0, column: at?.column ?? 0, message: "redact: \(error)")
        }
    }
}
