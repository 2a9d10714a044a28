// swift-tools-version:6.2
import PackageDescription

// The release version, the one place it is set: both executables' --version and the
// packages (scripts/package VERSION passes another through the environment; only
// Sources/CVersion recompiles).
let version = Context.environment["PORTWARDEN_VERSION"] ?? "0.1.0"
precondition(
    version.first?.isNumber == true && version.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || ".+~".contains($0)) },
    "PORTWARDEN_VERSION must start with a digit and hold only letters, digits, . + ~ (a version both dpkg and rpm accept)")
// Calls to hypotf, hypot and arc4random go to CLinuxShims (see
// Sources/CLinuxShims/glibc-compat.c), never to a symbol of glibc 2.35 or later: the
// executables then load on glibc 2.34.
let glibcCompat: [LinkerSetting] = [
    .unsafeFlags(["hypotf", "hypot", "arc4random"].flatMap { ["-Xlinker", "--wrap=\($0)"] }, .when(platforms: [.linux]))
]

// The agent (`portwarden-agent`) stays light: ProcFS, the wire model, HostScan and
// the argument parser — no NIO, no Hummingbird, no GRDB. Ship it built with
// `--static-swift-stdlib` so a host needs only its libc.
let package = Package(
    name: "portwarden",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "portwarden-agent", targets: ["portwarden-agent"]),
        .executable(name: "portwarden", targets: ["portwarden"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        // Linux calls Swift cannot reach directly (pidfd_getfd, SIOCGSKNS, setns).
        .target(name: "CLinuxShims"),
        .target(name: "ProcFS", dependencies: ["CLinuxShims", "PortwardenModel"]),
        // The distro's OpenSSL (libssl-dev): patched by apt, FIPS-capable. Never BoringSSL.
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        // The same OpenSSL apart from TLS: the one SHA-256 (Policy versions its files with it)
        // and secrets from its random generator (the FIPS provider's DRBG where one is set).
        .target(name: "OpenSSLCrypto", dependencies: ["COpenSSL", "PortwardenModel"]),
        .target(name: "OpenSSLTLS", dependencies: ["COpenSSL", "OpenSSLCrypto", "PortwardenModel", "StateFiles"]),
        // Keys, certificates, secrets, the spool and counters: written whole by rename with
        // their mode, read refusing a planted link. Light: the agent and collector both use it.
        .target(name: "StateFiles"),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .target(name: "CVersion", cSettings: [.define("PORTWARDEN_VERSION", to: "\"\(version)\"")]),
        .target(name: "PortwardenModel", dependencies: ["CVersion"]),
        // Rules, the legacy-port catalogue, host tags and waivers: parsed, checked, evaluated. No I/O but reading Policies/.
        .target(name: "Policy", dependencies: ["PortwardenModel", "ConfigFile", "OpenSSLCrypto", .product(name: "Yams", package: "Yams")]),
        // The small YAML subset the agent's and collector's config files are written in.
        .target(name: "ConfigFile", dependencies: ["PortwardenModel", "StateFiles"]),
        // The system's libpq (libpq-dev): PostgreSQL over the system OpenSSL, like every other TLS here.
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        // Connections, statements with bound parameters, transactions and a small pool over libpq: only that.
        .target(name: "PostgresClient", dependencies: ["CLibPQ"]),
        .target(name: "CollectorStore", dependencies: ["PortwardenModel", "PostgresClient", .product(name: "GRDB", package: "GRDB.swift")]),
        .target(
            name: "CollectorServer",
            dependencies: [
                "CollectorStore", "OpenSSLTLS", "OpenSSLCrypto", "PortwardenModel", "StateFiles", "CZlib", "Policy", "Findings",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // The one home of "policy result → stored finding": host tags resolved, finding
        // identity, when a finding opens and resolves; used by ingest, re-evaluation, replay, reports.
        .target(name: "Findings", dependencies: ["Policy", "CollectorStore", "OpenSSLCrypto", "PortwardenModel"]),
        // Trend and host computations over the stored history, and their renderers.
        .target(name: "Reports", dependencies: ["CollectorStore", "Findings", "Policy", "PortwardenModel"]),
        .target(name: "CollectorClient", dependencies: ["OpenSSLTLS", "PortwardenModel"]),
        // Both executables' log handler: one line per event, every value escaped. Light: the agent uses it.
        .target(
            name: "EventLog",
            dependencies: ["PortwardenModel", .product(name: "Logging", package: "swift-log"),
                           .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .target(name: "AgentReporting", dependencies: ["CollectorClient", "OpenSSLCrypto", "OpenSSLTLS", "PortwardenModel", "StateFiles"]),
        // The agent's scan: ProcFS's tables joined into a Snapshot, per network namespace.
        .target(name: "HostScan", dependencies: ["ProcFS", "PortwardenModel", "CLinuxShims"]),
        // The house conventions both executables share: the entry point and exit statuses (0, 1, 2, 3,
        // 75), durations as flags, listing formats. One scheme, one place.
        .target(
            name: "CommandConventions",
            dependencies: ["PortwardenModel", "StateFiles", "EventLog", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                           .product(name: "Logging", package: "swift-log")]),
        .target(
            name: "AgentCommands",
            dependencies: [
                "HostScan", "PortwardenModel", "AgentReporting", "CollectorClient", "OpenSSLTLS", "ConfigFile", "StateFiles", "CommandConventions", "EventLog",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .target(
            name: "CollectorCommands",
            dependencies: [
                "PortwardenModel", "CollectorServer", "CollectorStore", "OpenSSLTLS", "ConfigFile", "Policy", "Findings", "Reports",
                "StateFiles", "CommandConventions", "EventLog",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .executableTarget(
            name: "portwarden-agent",
            dependencies: ["AgentCommands", "CLinuxShims", "CommandConventions", "EventLog", .product(name: "Logging", package: "swift-log")],
            // lld, without packed relative relocations (`-z pack-relative-relocs`): those need
            // GLIBC_ABI_DT_RELR, glibc 2.36, which RHEL 9, Amazon Linux 2023 and Ubuntu 22.04
            // lack. Their plain table costs ~0.5 MiB of the scan's RSS (11.5 → 12.0 MiB here).
            linkerSettings: [.unsafeFlags(["-use-ld=lld"])] + glibcCompat),
        .executableTarget(
            name: "portwarden",
            dependencies: [
                "CollectorCommands", "CollectorServer", "CollectorStore", "CommandConventions", "EventLog", "PortwardenModel", "CLinuxShims",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            linkerSettings: glibcCompat),
        // Opens the sockets the live tests and the benchmark look for.
        .executableTarget(name: "listen-fixture", dependencies: ["CLinuxShims"]),
        // 10,000 hosts × 50 listeners through the default policy, for bench/policy-eval.sh.
        .executableTarget(name: "policy-bench", dependencies: ["Policy", "PortwardenModel"]),
        // A generated fleet history (10,000 hosts × 90 days) for bench/report-trend.sh.
        .executableTarget(name: "history-generator", dependencies: ["CollectorStore", "Findings", "PortwardenModel"]),
        // Simulated agents for bench/collector-load.sh.
        .executableTarget(name: "collector-load", dependencies: ["CollectorClient", "OpenSSLTLS", "PortwardenModel", "StateFiles"]),

        .testTarget(name: "ProcFSTests", dependencies: ["ProcFS", "PortwardenModel"]),
        .testTarget(name: "PortwardenModelTests", dependencies: ["PortwardenModel"]),
        .testTarget(name: "ConfigFileTests", dependencies: ["ConfigFile", "PortwardenModel"]),
        .testTarget(
            name: "EventLogTests",
            dependencies: ["EventLog", .product(name: "Logging", package: "swift-log"),
                           .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .testTarget(name: "PolicyTests", dependencies: ["Policy", "PortwardenModel", "ConfigFile"]),
        .testTarget(
            name: "ReportsTests",
            dependencies: ["Reports", "Findings", "CollectorStore", "CollectorServer", "Policy", "PortwardenModel", "PortwardenTestSupport"],
            exclude: ["Golden"]),
        // Certificates made at test time, shared by the TLS, server and agent tests; the hostile host's text;
        // an enrolled agent's state; a small disk that really fills.
        .target(
            name: "PortwardenTestSupport", dependencies: ["OpenSSLTLS", "PortwardenModel", "AgentReporting", "CollectorClient", "StateFiles"],
            path: "Tests/Support"),
        // The collector's application running in-process on loopback, for the server's and the agent's tests.
        .target(
            name: "CollectorTestSupport",
            dependencies: [
                "CollectorServer", "CollectorStore", "OpenSSLTLS", "PortwardenTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/CollectorSupport"),
        .testTarget(name: "OpenSSLCryptoTests", dependencies: ["OpenSSLCrypto"]),
        .testTarget(name: "OpenSSLTLSTests", dependencies: ["OpenSSLTLS", "PortwardenTestSupport", "StateFiles"]),
        .testTarget(name: "StateFilesTests", dependencies: ["StateFiles", "PortwardenTestSupport"]),
        // Fixtures: databases earlier releases wrote (scripts/make-upgrade-fixture), for the upgrade test.
        // The only test target that sees GRDB: its SQLite*.swift files test the schema itself.
        .testTarget(
            name: "CollectorStoreTests",
            dependencies: [
                "CollectorStore", "PortwardenModel", "Policy", "Findings", "PortwardenTestSupport", "PostgresClient",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            exclude: ["Fixtures"]),
        .testTarget(name: "PostgresClientTests", dependencies: ["PostgresClient", "PortwardenTestSupport"]),
        .testTarget(name: "FindingsTests", dependencies: ["Findings", "CollectorStore", "Policy", "PortwardenModel", "PortwardenTestSupport"]),
        .testTarget(
            name: "CollectorServerTests",
            dependencies: [
                "CollectorServer", "CollectorClient", "CollectorStore", "OpenSSLTLS", "PortwardenModel", "AgentReporting",
                "PortwardenTestSupport", "CollectorTestSupport", "Policy",
            ]),
        .testTarget(
            name: "HostScanTests",
            dependencies: ["HostScan", "PortwardenModel", "ProcFS", "listen-fixture", "portwarden-agent"],
            exclude: ["Fixtures"]),
        .testTarget(
            name: "CollectorCommandsTests",
            dependencies: [
                "CollectorClient", "CollectorStore", "OpenSSLTLS", "OpenSSLCrypto", "Policy", "PortwardenModel", "PortwardenTestSupport",
                "portwarden", "portwarden-agent", "listen-fixture", "StateFiles",
            ]),
        .testTarget(
            name: "AgentCommandsTests", dependencies: ["AgentCommands", "PortwardenModel", "PortwardenTestSupport", "portwarden-agent"]),
        .testTarget(name: "CollectorClientTests", dependencies: ["CollectorClient", "OpenSSLTLS"]),
        .testTarget(
            name: "AgentReportingTests",
            // A real collector in-process for the spool's tests: nothing lost while it is away.
            dependencies: [
                "AgentReporting", "CollectorClient", "OpenSSLTLS", "PortwardenModel", "PortwardenTestSupport", "StateFiles",
                "CollectorServer", "CollectorStore", "CollectorTestSupport",
            ]),
    ]
)
