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

    /// Loads `text` as the rules beside the fixtures' catalogue; every diagnostic must point into a file it loaded.
    func checkOnlyPositionedErrors(_ text: String) {
        let sources = [PolicySource(path: "rules.yaml", text: text), PolicySource(path: "catalog.yaml", text: PolicyFixtures.catalog)]
        expectOnlyPositioned(PolicySet.load(sources, today: PolicyFixtures.today), from: sources)
    }

    /// Each diagnostic names a loaded file, a line that file has and a column on that line
    /// (one past its last character at most: "expected more here") — or the file's end,
    /// which libyaml puts at column 1 of the line after the last — and says something.
    func expectOnlyPositioned(_ load: PolicyLoad, from sources: [PolicySource]) {
        for d in load.diagnostics {
            let source = sources.first { $0.displayPath == d.file }
            let lengths = source.map { Self.lineLengths(String(decoding: $0.bytes, as: UTF8.self)) } ?? []
            let onALine = lengths.indices.contains(d.line - 1) && d.column >= 1 && d.column <= lengths[d.line - 1] + 1
            let atTheEnd = source != nil && d.line == lengths.count + 1 && d.column == 1
            #expect((onALine || atTheEnd) && !d.message.isEmpty,
                    "\(d) in \(source.map { String(decoding: $0.bytes, as: UTF8.self) }.debugDescription)")
        }
    }

    /// Each line's length in Unicode scalars, the lines broken as libyaml breaks them: at
    /// \n, \r, \r\n, NEL, LS and PS.
    static func lineLengths(_ text: String) -> [Int] {
        var lengths = [0], afterCR = false
        for scalar in text.unicodeScalars {
            defer { afterCR = scalar == "\r" }
            if scalar == "\n" && afterCR { continue }
            if ["\n", "\r", "\u{85}", "\u{2028}", "\u{2029}"].contains(scalar) { lengths.append(0) } else { lengths[lengths.count - 1] += 1 }
        }
        return lengths
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
            let sources = [PolicySource(path: "rules.yaml", bytes: bytes)]
            expectOnlyPositioned(PolicySet.load(sources, today: PolicyFixtures.today), from: sources)
        }
    }

    @Test func deepNestingIsAnErrorNotACrash() {
        let deep = String(repeating: "(", count: 10_000) + "port 1" + String(repeating: ")", count: 10_000)
        let load = PolicyFixtures.load(rules: "rules:\n  - {id: r, why: w, severity: low, when: '\(deep)'}\n")
        #expect(load.errors.first?.message.contains("nest deeper") == true)
    }
}
