import Foundation
import Testing
@testable import Policy

/// Arbitrary and mutated policy files never crash the loader, and every failure is an
/// error with a position inside the file. Seeded, so a failure reproduces.
struct FuzzTests {
    /// xorshift64*: deterministic across runs and platforms.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state ^= state >> 12; state ^= state << 25; state ^= state >> 27
            return state &* 2_685_821_657_736_338_717
        }
    }

    static let seed = """
        rules:
          - id: openvms
            why: "557 only on OpenVMS"
            severity: critical
            when: port 557 and (protocol in [tcp, udp] or address in 10.0.0.0/8)
            unless: tag OpenVMS or host.name ~ "vms-*"
          - {id: r, why: w, severity: low, when: 'service in [exec] and not process.exe ~ "/usr/*"'}
        """

    static let pieces = ["port", "557", "and", "or", "not", "(", ")", "[", "]", ",", "~", "==", "!=", "in", "\"", "'",
                         "..", "/", ":", "-", " ", "\n", "\t", "{", "}", "*", "?", "&", "\\", "#", "|", ">", "%", "é", "\u{0}",
                         "tag", "catalog", "service", "label", "address", "::", "65536", "-1", "when:", "  - ", "&a", "*a", "!!int"]

    func checkOnlyPositionedErrors(_ text: String) {
        let lineCount = text.split(separator: "\n", omittingEmptySubsequences: false).count
        let load = PolicyFixtures.load(rules: text)
        for d in load.diagnostics {
            #expect(d.line >= 1 && d.line <= lineCount + 1 && d.column >= 1 && !d.message.isEmpty, "\(d) in \(text.debugDescription)")
        }
        #expect(load.policy != nil || !load.errors.isEmpty)
    }

    @Test func mutatedRuleFiles() {
        var rng = Generator(state: 0x5EED_0557)
        for _ in 0..<1500 {
            var scalars = Array(Self.seed.unicodeScalars)
            for _ in 0..<Int.random(in: 1...6, using: &rng) {
                let at = Int.random(in: 0...scalars.count, using: &rng)
                switch Int.random(in: 0..<4, using: &rng) {
                case 0 where at < scalars.count: scalars.remove(at: at)
                case 1: scalars.insert(contentsOf: Self.pieces.randomElement(using: &rng)!.unicodeScalars, at: at)
                case 2 where at < scalars.count: scalars[at] = Unicode.Scalar(UInt8.random(in: 0x20...0x7e, using: &rng))
                default:
                    let from = Int.random(in: 0..<scalars.count, using: &rng)
                    let length = min(Int.random(in: 1...20, using: &rng), scalars.count - from)
                    scalars.insert(contentsOf: scalars[from..<from + length], at: min(at, scalars.count))
                }
            }
            checkOnlyPositionedErrors(String(String.UnicodeScalarView(scalars)))
        }
    }

    @Test func arbitraryConditions() {
        var rng = Generator(state: 0xC0FF_EE55)
        for _ in 0..<3000 {
            let condition = (0..<Int.random(in: 0...12, using: &rng)).map { _ in Self.pieces.randomElement(using: &rng)! }.joined(separator: " ")
            let escaped = condition.replacingOccurrences(of: "'", with: "''").replacingOccurrences(of: "\n", with: " ")
            checkOnlyPositionedErrors("rules:\n  - id: r\n    why: w\n    severity: low\n    when: '\(escaped)'\n")
        }
    }

    @Test func arbitraryBytes() {
        var rng = Generator(state: 0xB17E5)
        for _ in 0..<500 {
            let bytes = (0..<Int.random(in: 0...200, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let load = PolicySet.load([PolicySource(path: "rules.yaml", bytes: bytes)], today: PolicyFixtures.today)
            #expect(load.diagnostics.allSatisfy { $0.line >= 1 && $0.column >= 1 })
        }
    }

    @Test func deepNestingIsAnErrorNotACrash() {
        let deep = String(repeating: "(", count: 10_000) + "port 1" + String(repeating: ")", count: 10_000)
        let load = PolicyFixtures.load(rules: "rules:\n  - {id: r, why: w, severity: low, when: '\(deep)'}\n")
        #expect(load.errors.first?.message.contains("nest deeper") == true)
    }
}
