import AgentReporting
import ArgumentParser
import CollectorClient
import ConfigFile
import OpenSSLTLS

/// Where the collector is and where this host's identity lives; shared by run and enroll.
/// Each can come from --config instead; a flag wins over the file.
struct CollectorOptions: ParsableArguments {
    @Option(help: ArgumentHelp("A config file (see Agent/agent.yaml); flags override it.", valueName: "file"))
    var config: String?

    @Option(help: ArgumentHelp("The collector, as host:port ([v6addr]:port for IPv6).", valueName: "host:port"))
    var collector: String?

    @Option(help: "The name the collector's certificate must carry (default: the host in --collector).")
    var serverName: String?

    @Option(help: ArgumentHelp("The agent's state: identity, sequence, spool (default: /var/lib/portwarden-agent).", valueName: "dir"))
    var stateDir: String?

    func validate() throws {
        if let collector, HostPort(collector) == nil {
            throw ValidationError("--collector \"\(collector)\": expected host:port, e.g. collector.example:8443")
        }
    }

    /// The config file, or an empty one when none is given.
    func file() throws -> AgentConfig {
        guard let config else { return AgentConfig() }
        do { return try AgentConfig(path: config) } catch { throw ValidationError("\(error)") }
    }

    func state(_ file: AgentConfig) -> AgentState {
        AgentState(directory: stateDir ?? file.stateDir ?? "/var/lib/portwarden-agent")
    }

    func connection(_ file: AgentConfig, context: TLSContext) throws -> CollectorConnection {
        guard let text = collector ?? file.collector else {
            throw ValidationError("no collector: give --collector host:port, or collector: in --config")
        }
        // Checked already, in validate() or when the file was read.
        guard let endpoint = HostPort(text) else { throw ValidationError("bad collector \"\(text)\"") }
        // `run` keeps this connection for its whole life: each report resumes the last
        // report's TLS session (the collector keeps sessions for an hour).
        return CollectorConnection(host: endpoint.host, port: UInt16(endpoint.port), context: context,
                                   serverName: serverName ?? file.serverName, sessions: SessionCache())
    }
}
