import ArgumentParser
import CollectorServer
import CollectorStore
import Logging

/// `portwarden serve`
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Accept agents' reports over mutual TLS and keep their history.",
        discussion: """
            HTTP/1.1 over TLS (the system OpenSSL, TLS 1.2 or later): POST /v1/reports \
            from enrolled hosts, POST /v1/enroll (when `portwarden enroll secret` has made \
            a secret), GET /metrics, GET /healthz. A host's identity is the name in its \
            client certificate; a report naming another host is refused (403). History goes \
            to portwarden.sqlite in the state directory (WAL). SIGTERM or SIGINT stops \
            accepting and finishes the reports in flight.
            """)

    @OptionGroup var state: StateOptions

    @Option(help: ArgumentHelp("Address and port to listen on.", valueName: "host:port"))
    var listen: String = "0.0.0.0:8443"

    @Option(help: ArgumentHelp("The SQLite database (default: portwarden.sqlite in the state directory).", valueName: "path"))
    var database: String?

    @Option(help: "Largest report accepted, in bytes.")
    var maxReportBytes: Int = 16 << 20

    func validate() throws { _ = try endpoint() }

    func endpoint() throws -> (String, Int) {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]),
              (0...65535).contains(port)
        else { throw ValidationError("--listen \"\(listen)\": expected host:port, e.g. 0.0.0.0:8443") }
        var host = String(listen[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host, port)
    }

    @Option(help: "Seconds without a report after which a host counts as stale.")
    var staleAfter: Int64 = 900

    func run() async throws {
        let logger = Logger(label: "portwarden.serve")
        let (host, port) = try endpoint()
        let files = state.files
        let history = try CollectorDatabase.open(path: database ?? files.database)
        // Certificates are verified whenever offered; every route but enrollment refuses
        // a client without one.
        let app = CollectorApplication.build(
            settings: .init(host: host, port: port, maxReportBytes: maxReportBytes, staleAfter: staleAfter),
            tls: try files.serverContext(clientCertificates: .optional), database: history, logger: logger,
            enrollment: .init(ca: try files.authority(), secret: files.readEnrollmentSecret()),
            onRunning: { port in logger.info("listening on \(host):\(port)") })
        try await app.runService()
    }
}
