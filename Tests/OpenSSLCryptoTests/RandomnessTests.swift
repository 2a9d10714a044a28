import OpenSSLCrypto
import Testing

/// Enrollment secrets and tokens: as long as asked, hex, and never the same twice.
struct RandomnessTests {
    @Test func secretsAreLowercaseHexOfTheAskedLengthAndAllDiffer() throws {
        let secrets = try (0..<64).map { _ in try Randomness.hex(bytes: 32) }
        #expect(secrets.allSatisfy { $0.count == 64 && $0.allSatisfy { "0123456789abcdef".contains($0) } })
        #expect(Set(secrets).count == secrets.count)
        #expect(try Randomness.hex(bytes: 0) == "")
    }

    @Test(arguments: [-1, Int(Int32.max) + 1, Int.max])
    func aLengthOpenSSLCannotTakeIsAnErrorNotATrap(count: Int) {
        let failure = #expect(throws: Randomness.Failure.self) { try Randomness.hex(bytes: count) }
        #expect(failure?.description.contains("OpenSSL's random generator gave no secret (\(count) bytes asked)") == true)
    }
}
