import Foundation
import OpenSSLCrypto

/// Everything the collector evaluates with: rules compiled once, the catalogue, the
/// inventory, the waivers, the policy tests, and a digest of the files they came from.
public struct PolicySet: Sendable {
    public let rules: [Rule]
    public let catalog: LegacyCatalog
    public let inventory: Inventory
    public let waivers: [Waiver]
    public let tests: [PolicyTestCase]
    /// SHA-256 over the names and bytes of the rule, catalogue, inventory and waiver
    /// files (not the tests, which change no finding): the policy version of each finding.
    public let digest: String
    /// The files the digest covers, by path: what the collector records as this version,
    /// so reports read rule texts and tags from the database, not from a directory.
    public let files: [PolicySource]

    let hostTests: [HostTest]
    /// For each port, the rules (by index) that can match a listener on it; ports no rule
    /// names share one array.
    let rulesByPort: [[Int]]
    /// The rules' compiled conditions alone, so the hot loop copies no rule text.
    let conditions: [(when: Condition, unless: Condition?)]
    let needsAddress: Bool
    let waiversByRule: [String: [Waiver]]
}

/// What loading a policy gave: the policy when nothing was wrong, and every diagnostic.
public struct PolicyLoad: Sendable {
    public var policy: PolicySet?
    /// Errors and warnings, file by file, in the order found.
    public var diagnostics: [Diagnostic]

    public var errors: [Diagnostic] { diagnostics.filter { $0.level == .error } }
    public var warnings: [Diagnostic] { diagnostics.filter { $0.level == .warning } }
}

extension PolicySet {
    /// Reads, checks and compiles policy files. `today` dates the waiver warnings (expired,
    /// or expiring within 14 days); `assignedTags` are tags given with `portwarden hosts
    /// tag`, so rules naming them are not warned about. `policy` is nil when any error was found.
    public static func load(_ sources: [PolicySource], today: Day, assignedTags: Set<String> = []) -> PolicyLoad {
        var diagnostics: [Diagnostic] = []
        func reader(_ source: PolicySource) -> PolicyFileReader {
            let text = String(decoding: source.bytes, as: UTF8.self)
            let reader = PolicyFileReader(path: source.displayPath, text: text)
            if String(validating: source.bytes, as: UTF8.self) == nil {
                reader.error("the file is not valid UTF-8", line: 1, column: 1)
            }
            return reader
        }
        func collect(_ r: PolicyFileReader) { diagnostics += r.diagnostics }
        let byKind = Dictionary(grouping: sources, by: \.kind)
        func single(_ kind: PolicySource.Kind) -> PolicySource? {
            let files = byKind[kind] ?? []
            for extra in files.dropFirst() {
                diagnostics.append(Diagnostic(.error, file: extra.displayPath, line: 1, column: 1,
                                              message: "a second \(extra.path.split(separator: "/").last!) (the first is \(files[0].displayPath))"))
            }
            return files.first
        }

        // Order matters: rules compile against the catalogue and the inventory's tags,
        // waivers and tests name rules.
        let catalogSource = single(.catalog)
        let catalog: LegacyCatalog? = catalogSource.map { source in
            let r = reader(source)
            defer { collect(r) }
            return LegacyCatalog.parse(r)
        }
        let inventory: Inventory? = single(.inventory).map { source in
            let r = reader(source)
            defer { collect(r) }
            return Inventory.parse(r)
        }
        let knownTags = inventory.map { Set(($0.allTags.union(assignedTags)).map { $0.lowercased() }) }
        let context = RuleContext(catalog: catalog, knownTags: knownTags)
        var rules: [Rule] = []
        var firstDefinition: [String: SourceLocation] = [:]
        for source in byKind[.rules] ?? [] {
            let r = reader(source)
            for rule in Rule.parse(r, context: context) {
                if let first = firstDefinition[rule.id] {
                    r.error("the rule id '\(rule.id)' is already used at \(first)", line: rule.location.line, column: rule.location.column)
                    continue
                }
                firstDefinition[rule.id] = rule.location
                rules.append(rule)
            }
            collect(r)
        }
        let ruleIDs = (byKind[.rules] ?? []).isEmpty ? nil : rules.map(\.id)
        let waivers: [Waiver] = single(.waivers).map { source in
            let r = reader(source)
            defer { collect(r) }
            return Waiver.parse(r, ruleIDs: ruleIDs, today: today)
        } ?? []
        var tests: [PolicyTestCase] = []
        for source in byKind[.tests] ?? [] {
            let r = reader(source)
            tests += PolicyTestCase.parse(r, ruleIDs: ruleIDs)
            collect(r)
        }

        guard !diagnostics.contains(where: { $0.level == .error }) else { return PolicyLoad(policy: nil, diagnostics: diagnostics) }
        let policy = PolicySet(rules: rules, catalog: catalog ?? LegacyCatalog(entries: []), inventory: inventory ?? Inventory(),
                               waivers: waivers, tests: tests, files: versioned(sources), hostTests: context.hostTests.tests)
        return PolicyLoad(policy: policy, diagnostics: diagnostics)
    }

    /// `PolicySource.read(directory:)` then `load`.
    public static func load(directory: String, today: Day, assignedTags: Set<String> = []) throws -> PolicyLoad {
        load(try PolicySource.read(directory: directory), today: today, assignedTags: assignedTags)
    }

    init(rules: [Rule], catalog: LegacyCatalog, inventory: Inventory, waivers: [Waiver], tests: [PolicyTestCase],
         files: [PolicySource], hostTests: [HostTest]) {
        self.rules = rules
        self.catalog = catalog
        self.inventory = inventory
        self.waivers = waivers
        self.tests = tests
        self.files = files
        digest = Self.digest(of: files)
        self.hostTests = hostTests
        needsAddress = rules.contains { $0.whenCondition.needsAddress || ($0.unlessCondition?.needsAddress ?? false) }
        waiversByRule = Dictionary(grouping: waivers, by: \.rule)
        conditions = rules.map { ($0.whenCondition, $0.unlessCondition) }

        let supports = rules.map { $0.whenCondition.portSupport() }
        let everywhere = supports.indices.filter { supports[$0] == nil }
        var named = PortSet()
        for s in supports { if let s { named = named.union(s) } }
        var table = [[Int]](repeating: everywhere, count: 65_536)
        for port in 0...65_535 where named.contains(UInt16(port)) {
            table[port] = supports.indices.filter { supports[$0]?.contains(UInt16(port)) ?? true }
        }
        rulesByPort = table
    }

    /// The files that make a version: all but the tests, which change no finding.
    static func versioned(_ sources: [PolicySource]) -> [PolicySource] {
        sources.filter { $0.kind != .tests }.sorted { $0.path < $1.path }
    }

    /// Names and bytes, each length-prefixed, so no two file sets share a digest by
    /// moving bytes between files.
    static func digest(of sources: [PolicySource]) -> String {
        var framed: [UInt8] = []
        for source in versioned(sources) {
            for chunk in [Array(source.path.utf8), source.bytes] {
                let n = UInt64(chunk.count)
                framed += (0..<8).map { UInt8(truncatingIfNeeded: n >> UInt64(56 - 8 * $0)) }
                framed += chunk
            }
        }
        return Digest.sha256(framed)
    }
}
