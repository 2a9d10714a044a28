import AgentReporting
import ArgumentParser
import CollectorClient
import ConfigFile
import Logging
import OpenSSLTLS

/// Where the collectors are and where this host's identity lives; shared by run, enroll
/// and renew. Each can come from --config instead; a flag wins over the file (the
/// --collector flags over the whole of its `collector:` list).
struct CollectorOptions: ParsableArguments {
    @Option(help: ArgumentHelp("A config file (see Agent/agent.yaml); flags override it.", valueName: "file"))
    var config: String?

    @Option(help: ArgumentHelp("""
        The collector, as host:port ([v6addr]:port for IPv6). Repeat it for several (at most 16): \
        the agent keeps to one, and moves to the next when it does not answer.
        """, valueName: "host:port"))
    var collector: [String] = []

    @Option(help: "The name every collector's certificate must carry (default: the host of each --collector).")
    var serverName: String?

    @Option(help: ArgumentHelp("The agent's state: identity, sequence, spool (default: /var/lib/portwarden-agent).", valueName: "dir"))
    var stateDir: String?

    func validate() throws {
        if let (_, message) = CollectorAddresses.problem(in: collector, flag: true) { throw ValidationError("--collector \(message)") }
    }

    /// The config file, or an empty one when none is given.
    func file() throws -> AgentConfig {
        guard let config else { return AgentConfig() }
        do { return try AgentConfig(path: config) } catch { throw ValidationError("\(error)") }
    }

    func state(_ file: AgentConfig) -> AgentState {
        AgentState(directory: stateDir ?? file.stateDir ?? "/var/lib/portwarden-agent")
    }

    /// The collectors, in the order the host `name` tries them, starting with the one that
    /// answered last (kept in `state`).
    func collectors(_ file: AgentConfig, context: TLSContext, name: String, state: AgentState) throws -> CollectorList {
        let entries = collector.isEmpty ? file.collector : collector
        guard !entries.isEmpty else {
            throw ValidationError("no collector: give --collector host:port, or collector: in --config")
        }
        // Checked already, in validate() or when the file was read. `run` keeps these
        // connections for its whole life: each report goes on the connection the last one
        // went on while the collector keeps it open (keepalive_timeout, 90 s by default),
        // else resumes the last report's TLS session (a collector keeps sessions for an hour).
        let connections = entries.compactMap { HostPort($0) }.map {
            CollectorConnection(host: $0.host, port: UInt16($0.port), context: context, serverName: serverName ?? file.serverName,
                                sessions: SessionCache(), kept: KeptConnection())
        }
        return CollectorList(CollectorList.order(connections, for: name), keptIn: state.collectorPath)
    }
}

extension Failover {
    /// The log line for a collector that failed: `collector_failover` when another is
    /// tried next; when none is left the command's own failure says why — except for a
    /// certificate that did not verify, which is logged as such (`collector_untrusted`):
    /// a wrong CA file or name, or someone posing as the collector.
    func log(to logger: Logger) {
        let reason = untrusted ? "untrusted, maybe an impostor: \(reason)" : reason
        if let to {
            logger.log(level: untrusted ? .error : .warning, "collector \(from) failed; trying \(to)", metadata: [
                "event": "collector_failover", "from": "\(from)", "to": "\(to)", "reason": "\(reason)"])
        } else if untrusted {
            logger.error("collector \(from) failed: its certificate does not verify here", metadata: [
                "event": "collector_untrusted", "collector": "\(from)", "reason": "\(reason)"])
        }
    }
}
