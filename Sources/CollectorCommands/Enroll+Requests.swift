import ArgumentParser
import CollectorStore
import Foundation
import PortwardenModel
import Reports

extension Enroll {
    /// `portwarden enroll pending`
    struct Pending: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the enrollments that wait for an operator.",
            discussion: """
                One row per key asking for a name: the key's SHA-256 fingerprint (the host's \
                `portwarden-agent enroll` prints its own, to compare), the address it came \
                from, when it asked, when the request expires (enrollment.request_ttl, 24h by \
                default), and why it waits — the name's certificate valid, revoked or expired \
                (or held by this very key), or the policy entries that single the name out. An \
                approved request stays listed until the host collects its certificate. Once \
                another key is issued the name, the requests left are listed as superseded \
                (by that serial) and can no longer be approved: the host asks again first.
                """)

        @OptionGroup var state: StateOptions

        @Option(help: "table or json.")
        var format: OutputFormat = .table

        struct Row: Encodable {
            var host: String
            var state: String
            var fingerprint: String
            var address: String?
            var requested: String
            var expires: String
            var why: String
            var credential: String?
            var supersededBy: String?
        }

        func run() throws {
            let database = try openHistory(state)
            let rows = try database.openRequests(now: nowSeconds).map { r in
                Row(host: r.hostName, state: r.state, fingerprint: r.keyFingerprint,
                    address: r.address, requested: Timestamp.rfc3339(r.requestedAt), expires: Timestamp.rfc3339(r.expiresAt),
                    why: r.reason ?? "", credential: r.credential, supersededBy: r.supersededBy)
            }
            switch format {
            case .json: try Listing.print("requests", rows: rows)
            case .table:
                print(TextLayout.table(["HOST", "STATE", "FINGERPRINT (SHA-256)", "ADDRESS", "REQUESTED", "EXPIRES", "WHY"],
                                       rows.map { [$0.host, $0.supersededBy.map { "superseded by serial \($0)" } ?? $0.state, $0.fingerprint,
                            $0.address ?? "-", $0.requested, $0.expires, $0.why] },
                                       width: .max), terminator: "")
            }
        }
    }

    /// `portwarden enroll approve NAME --fingerprint FP`
    struct Approve: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Let one waiting key have a host name.",
            discussion: """
                Approves the request of NAME whose key's fingerprint starts with FP (at least \
                8 hex digits, enough to pick one request; see `enroll pending`, and compare \
                with what the host's `portwarden-agent enroll` printed). Other keys waiting \
                for NAME stay waiting. The host's next attempt with that key gets the \
                certificate, the name's older certificate is revoked and the other keys' \
                requests are superseded; it must come within enrollment.request_ttl (24h by \
                default). An expired or superseded request cannot be approved: the host asks \
                again first.
                """)

        @OptionGroup var choice: RequestChoice

        func run() throws {
            let (file, database, name, fingerprint) = try choice.resolve()
            let request = try answered(try database.approveRequest(
                host: name, fingerprint: fingerprint, now: nowSeconds, ttl: file.enrollment.requestTTLSeconds,
                by: Operator.current), name)
            print("approved key \(request.keyFingerprint) for \(name): the host gets its certificate at its next attempt, "
                + "before \(Timestamp.rfc3339(request.expiresAt))")
        }
    }

    /// `portwarden enroll refuse NAME --fingerprint FP`
    struct Refuse: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Turn a waiting key away for good (one you do not recognise).",
            discussion: """
                The key whose fingerprint starts with FP never gets NAME; its next attempts \
                are refused and say so (a superseded request can be refused too). Other keys \
                waiting for NAME are not touched. The refused request still counts against \
                the address it came from, which may have \(EnrollmentRequest.maxWaitingPerSource) requests for a name within \
                enrollment.request_ttl: refusing makes room for others, not for it.
                """)

        @OptionGroup var choice: RequestChoice

        func run() throws {
            let (_, database, name, fingerprint) = try choice.resolve()
            let request = try answered(try database.refuseRequest(host: name, fingerprint: fingerprint, now: nowSeconds,
                                                                  by: Operator.current), name)
            print("refused key \(request.keyFingerprint) for \(name)")
        }
    }
}

/// NAME and --fingerprint: the waiting request an operator answers.
struct RequestChoice: ParsableArguments {
    @OptionGroup var state: StateOptions

    @Argument(help: "The host name the request asked for.")
    var host: String

    @Option(help: "The key's SHA-256 fingerprint, or a prefix of it (8 hex digits or more).")
    var fingerprint: String?

    /// The config, the history, the name in normal form and the fingerprint as compared.
    func resolve() throws -> (CollectorConfig, any HistoryStore, String, String) {
        let file = try state.file()
        let database = try openHistory(state, file)
        let name = try hostArgument(host, database)
        return (file, database, name, try fingerprintPrefix(fingerprint, name, database))
    }
}

/// `--fingerprint` as the store compares it: lower-case hex, colons dropped. Without
/// one, the error lists what waits for `name`.
private func fingerprintPrefix(_ given: String?, _ name: String, _ database: any HistoryStore) throws -> String {
    guard let given else {
        let waiting = try database.openRequests(now: nowSeconds).filter { $0.hostName == name && $0.supersededAt == nil }
        throw ValidationError(waiting.isEmpty ? "no enrollment for \(name) is waiting"
            : "pass --fingerprint: \(waiting.count) key\(waiting.count == 1 ? "" : "s") wait\(waiting.count == 1 ? "s" : "") for \(name): "
                + waiting.map { "\($0.keyFingerprint) from \($0.address ?? "?")" }.joined(separator: ", "))
    }
    let hex = given.lowercased().replacing(":", with: "")
    guard hex.count >= 8, hex.count <= 64, hex.allSatisfy(\.isHexDigit) else {
        throw ValidationError("--fingerprint \"\(given)\": expected the key's SHA-256 in hex, or its first 8 digits or more")
    }
    return hex
}

/// The request answered, or an error that says what to do.
private func answered(_ result: Result<EnrollmentRequest, RequestAnswerFailure>, _ name: String) throws
    -> EnrollmentRequest
{
    switch result {
    case .success(let request): return request
    case .failure(.ambiguous(let requests)):
        throw ValidationError("more than one waiting key of \(name) starts so: "
            + requests.map(\.keyFingerprint).joined(separator: ", ") + "; give more of the fingerprint")
    case .failure(.superseded(let request)):
        throw ValidationError("the request of key \(request.keyFingerprint) for \(name) was superseded at "
            + "\(Timestamp.rfc3339(request.supersededAt ?? 0)): serial \(request.supersededBy ?? "?") was issued for the name since. "
            + "If this key should have the name instead, have the host ask again (portwarden-agent enroll), then approve the new request")
    case .failure(.expired(let request)):
        throw ValidationError("the request of key \(request.keyFingerprint) for \(name) expired at "
            + "\(Timestamp.rfc3339(request.expiresAt)): have the host ask again (portwarden-agent enroll), then answer the new one")
    case .failure(.noMatch(let waiting)):
        throw ValidationError(waiting.isEmpty ? "no enrollment for \(name) is waiting"
            : "no waiting key of \(name) starts so; these wait: " + waiting.map(\.keyFingerprint).joined(separator: ", "))
    }
}
