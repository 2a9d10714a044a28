import AgentReporting
import ArgumentParser
import CollectorClient
import OpenSSLTLS

/// Where the collector is and where this host's identity lives; shared by run and enroll.
struct CollectorOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The collector, as host:port ([v6addr]:port for IPv6).", valueName: "host:port"))
    var collector: String

    @Option(help: "The name the collector's certificate must carry (default: the host in --collector).")
    var serverName: String?

    @Option(help: ArgumentHelp("The agent's state: identity, sequence, spool.", valueName: "dir"))
    var stateDir: String = "/var/lib/portwarden-agent"

    func validate() throws { _ = try endpoint() }

    var state: AgentState { AgentState(directory: stateDir) }

    func endpoint() throws -> (host: String, port: UInt16) {
        guard let colon = collector.lastIndex(of: ":"), let port = UInt16(collector[collector.index(after: colon)...]),
              port > 0
        else { throw ValidationError("--collector \"\(collector)\": expected host:port, e.g. collector.example:8443") }
        var host = String(collector[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw ValidationError("--collector \"\(collector)\": the host is missing") }
        return (host, port)
    }

    func connection(context: TLSContext) throws -> CollectorConnection {
        let (host, port) = try endpoint()
        return CollectorConnection(host: host, port: port, context: context, serverName: serverName)
    }
}
