import CollectorClient
import CollectorStore
import Foundation
import OpenSSLTLS
import PortwardenTestSupport
import Testing

/// What an attacker holding the secret tries against `portwarden serve` itself: racing a
/// name with eight keys at once, look-alikes of a name that is held, and names that
/// cannot name a host.
extension ServeTests {
    @Test func racesLookAlikesAndNonNamesGetNoCertificateFromServe() async throws {
        defer { try? FileManager.default.removeItem(atPath: state) }
        let (server, port, secret) = try caSecretAndServe()
        defer { server.terminate(); server.waitUntilExit() }

        // Eight keys for one unused name, all at once: one certificate; of the rest, one
        // address may have three waiting, and the others are turned away.
        let outcomes = try await withThrowingTaskGroup(of: Result<EnrollmentResult, EnrollmentRefused>.self) { group in
            for _ in 0..<8 {
                group.addTask { try await blocking { try attackerEnroll(port, "db-07", secret: secret).0 } }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let issued = outcomes.filter { if case .success(.issued) = $0 { true } else { false } }
        let pending = outcomes.filter { if case .success(.pending) = $0 { true } else { false } }
        let turnedAway = outcomes.filter { if case .failure(let refused) = $0 { refused.status == 429 } else { false } }
        #expect(issued.count == 1 && pending.count == EnrollmentRequest.maxWaitingPerSource && turnedAway.count == 4, "\(outcomes)")
        let database = try CollectorDatabase.open(path: state + "/portwarden.sqlite")
        let valid = try database.certificates(host: "db-07").count { $0.revokedAt == nil }
        #expect(valid == 1)

        // While db-08 holds a certificate, its look-alikes are db-08: they wait for an operator.
        guard case (.success(.issued), _) = try attackerEnroll(port, "db-08", secret: secret) else {
            Issue.record("db-08 was not issued")
            return
        }
        for lookAlike in ["DB-08", "db-08.", "Db-08."] {
            let (outcome, _) = try attackerEnroll(port, lookAlike, secret: secret)
            guard case .success(.pending(let message)) = outcome, message.contains("db-08") else {
                Issue.record("\(lookAlike): \(outcome)")
                continue
            }
        }
        // What cannot name a host is refused, saying why.
        for (name, why) in [("localhost", "localhost"), ("a..b", "empty label"), ("10.0.0.1", "address"), ("web_01", "letters")] {
            let (outcome, _) = try attackerEnroll(port, name, secret: secret)
            guard case .failure(let refused) = outcome, refused.status == 400, refused.message.contains(why) else {
                Issue.record("\(name): \(outcome)")
                continue
            }
        }
        let names = Array(Set(try database.certificates().map(\.hostName)))
        #expect(names.sorted() == ["db-07", "db-08"], "no certificate for any other name: \(names)")
        #expect(server.isRunning)
    }
}
