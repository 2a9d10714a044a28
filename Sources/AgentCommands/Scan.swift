import ArgumentParser
import CommandConventions
import ConfigFile
import Glibc
import HostScan
import EventLog
import Logging
import PortwardenModel
import ProcFS

/// `portwarden-agent scan`: one scan of this host, printed.
struct Scan: ParsableCommand, LoggingCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print every listener on this host, with its owners.",
        discussion: """
            The table is for people: one line per listener, sorted by port. The JSON is \
            the wire format the collector receives (schema 1, see docs/wire-format.md). \
            Problems (a malformed /proc line, an unreadable table, a socket that could not \
            be resolved) are reported on stderr and in "warnings", and mark the snapshot \
            "complete": false; the scan still exits 0. It exits 1 only when the proc root \
            cannot be read at all.
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case table, json
    }

    @Option(help: "Output format: table (for people) or json (the wire format).")
    var format: Format = .table

    @Option(help: ArgumentHelp("Where procfs is mounted; tests point it at a fixture tree.", valueName: "path"))
    var procRoot: String = "/proc"

    @Option(help: ArgumentHelp("A config file (see Agent/agent.yaml); its redact: names apply here too.", valueName: "file"))
    var config: String?

    @OptionGroup var redactionOptions: RedactionOptions

    @OptionGroup var logOptions: LogOptions

    func run() throws {
        let logger = Logger(label: "portwarden.agent.scan")
        let file: AgentConfig
        do { file = try config.map { path throws(ConfigError) in try AgentConfig(path: path) } ?? AgentConfig() } catch {
            throw ValidationError("\(error)")
        }
        let redaction = try redactionOptions.redaction(file)
        let snapshot: Snapshot
        do {
            snapshot = try ListenerScan(procfs: ProcFS(root: procRoot), redaction: redaction).run()
        } catch {
            throw ScanFailed(message: "cannot scan \(procRoot): \(error)")
        }
        switch format {
        case .json:
            var writer = JSONWriter { chunk in StandardOutput.write(chunk) }
            writer.value(snapshot)
            writer.flush()
            StandardOutput.write(Array("\n".utf8))
        case .table:
            StandardOutput.write(Array(ListenerTable(colour: isatty(1) == 1).render(snapshot).utf8))
        }
        for warning in snapshot.warnings { logger.warning("\(warning)", metadata: ["event": "scan_warning"]) }
    }
}

/// The scan could not be done (exit 3); printed as `Error: …`.
struct ScanFailed: ExitStatusError, CustomStringConvertible {
    let message: String
    var description: String { message }
    var exitStatus: ExitStatus { .failed }
}

enum StandardOutput {
    /// Whole-buffer write(2) to fd 1, retrying short and interrupted writes.
    static func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(1, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return }
                offset += n
            }
        }
    }
}
