import Foundation
import PortwardenModel
import Yams

/// One case of `Policies/tests/*.yaml`: a host, its listeners, and exactly the findings
/// the policy must give for them.
public struct PolicyTestCase: Sendable {
    public var name: String
    public var location: SourceLocation
    public var host: String
    /// The host's tags; nil to take them from the inventory.
    public var tags: Set<String>?
    public var labels: [String: String]
    /// The day the case is evaluated on (waivers depend on it); nil for today.
    public var date: Day?
    public var listeners: [Listener]
    public var expected: [ExpectedFinding]
}

/// A finding a case expects: its rule, and optionally its port and whether it is waived.
public struct ExpectedFinding: Equatable, Sendable, CustomStringConvertible {
    public var rule: String
    public var port: UInt16?
    public var waived: Bool?

    func matches(_ f: Finding) -> Bool {
        f.rule == rule && (port.map { $0 == f.listener.port } ?? true) && (waived.map { $0 == f.isWaived } ?? true)
    }

    public var description: String {
        rule + (port.map { " on port \($0)" } ?? "") + (waived.map { $0 ? " (waived)" : " (not waived)" } ?? "")
    }
}

/// How a case went: passed when every expected finding came and nothing else did.
public struct PolicyTestResult: Sendable {
    public var testCase: PolicyTestCase
    public var findings: [Finding]
    public var missing: [ExpectedFinding]
    public var unexpected: [Finding]
    public var passed: Bool { missing.isEmpty && unexpected.isEmpty }
}

extension PolicySet {
    /// Runs every case of `Policies/tests/`; a case without a `date` is evaluated at `now`.
    public func runTests(now: Date) -> [PolicyTestResult] {
        tests.map { run($0, now: now) }
    }

    public func run(_ testCase: PolicyTestCase, now: Date) -> PolicyTestResult {
        let facts = HostFacts(name: testCase.host, tags: testCase.tags ?? inventory.tags(for: testCase.host), labels: testCase.labels)
        let findings = evaluate(listeners: testCase.listeners, host: facts, now: testCase.date.map { Date(timeIntervalSince1970: Double($0.ordinal) * 86_400 + 43_200) } ?? now)
        var unexpected = findings
        var missing: [ExpectedFinding] = []
        for expectation in testCase.expected {
            if let i = unexpected.firstIndex(where: expectation.matches) { unexpected.remove(at: i) } else { missing.append(expectation) }
        }
        return PolicyTestResult(testCase: testCase, findings: findings, missing: missing, unexpected: unexpected)
    }
}

extension PolicyTestCase {
    static let fields = ["name", "host", "tags", "labels", "date", "listeners", "expect"]
    static let listenerFields = ["port", "protocol", "address", "scope", "namespace", "process", "exe", "user", "uid",
                                 "unit", "container", "found_by"]

    static func parse(_ reader: PolicyFileReader, ruleIDs: [String]?) -> [PolicyTestCase] {
        var cases: [PolicyTestCase] = []
        for node in topList(reader, key: "cases", what: "a policy test file") ?? [] {
            guard let f = Fields(node, "a test case", allowed: fields, reader: reader) else { continue }
            let name = f.string("name", required: true, hint: "what the case shows")
            let host = f.string("host", required: true, hint: "the host name")
            var tags: Set<String>?
            if let list = f.list("tags", required: false, hint: "the host's tags") {
                tags = Set(list.compactMap { t -> String? in
                    guard let s = t.scalar?.string, isTagName(s) else { reader.error("expected a tag; got \(describe(t))", at: t); return nil }
                    return s
                })
            }
            var labels: [String: String] = [:]
            if let labelNode = f["labels"] {
                if let mapping = labelNode.mapping {
                    for (k, v) in mapping {
                        guard let key = k.scalar?.string, let value = v.scalar?.string else { reader.error("labels map a name to one value", at: k); continue }
                        labels[key] = value
                    }
                } else { reader.error("expected labels as a mapping (name: value); got \(describe(labelNode))", at: labelNode) }
            }
            var date: Day?
            if let dateNode = f.scalar("date", required: false, hint: "YYYY-MM-DD") {
                date = Day(iso: dateNode.scalar!.string)
                if date == nil { reader.error("expected a date YYYY-MM-DD; got \(describe(dateNode))", at: dateNode) }
            }
            let listeners = (f.list("listeners", required: true, hint: "the host's listeners") ?? []).compactMap { listener($0, reader) }
            let expected = (f.list("expect", required: true, hint: "the findings expected: rule ids, or {rule, port, waived}; [] for none") ?? [])
                .compactMap { expectation($0, reader, ruleIDs: ruleIDs) }
            guard let name, let host else { continue }
            cases.append(PolicyTestCase(name: name, location: reader.location(of: node), host: host, tags: tags, labels: labels,
                                        date: date, listeners: listeners, expected: expected))
        }
        return cases
    }

    private static func expectation(_ node: Node, _ reader: PolicyFileReader, ruleIDs: [String]?) -> ExpectedFinding? {
        func known(_ id: String, _ at: Node) -> Bool {
            guard let ruleIDs, !ruleIDs.contains(id) else { return true }
            reader.error("no rule has the id '\(id)'\(suggestion(for: id, in: ruleIDs))", at: at)
            return false
        }
        if let id = node.scalar?.string { return known(id, node) ? ExpectedFinding(rule: id) : nil }
        guard let f = Fields(node, "an expected finding", allowed: ["rule", "port", "waived"], reader: reader),
              let ruleNode = f.scalar("rule", required: true, hint: "the rule id"), let id = ruleNode.scalar?.string else { return nil }
        var expected = ExpectedFinding(rule: id)
        if let p = f.scalar("port", required: false, hint: "0-65535") {
            expected.port = UInt16(p.scalar!.string)
            if expected.port == nil { reader.error("expected a port 0-65535; got \(describe(p))", at: p); return nil }
        }
        if let w = f.scalar("waived", required: false, hint: "true or false") {
            expected.waived = w.scalar!.string == "true" ? true : w.scalar!.string == "false" ? false : nil
            if expected.waived == nil { reader.error("expected true or false; got \(describe(w))", at: w); return nil }
        }
        return known(id, ruleNode) ? expected : nil
    }

    /// A listener from the few facts a case states; family and scope follow from the address.
    private static func listener(_ node: Node, _ reader: PolicyFileReader) -> Listener? {
        guard let f = Fields(node, "a test listener", allowed: listenerFields, reader: reader) else { return nil }
        var ok = true
        func fail(_ message: String, _ at: Node) { reader.error(message, at: at); ok = false }
        var port: UInt16 = 0
        if let p = f.scalar("port", required: true, hint: "0-65535") {
            if let v = UInt16(p.scalar!.string) { port = v } else { fail("expected a port 0-65535; got \(describe(p))", p) }
        } else { ok = false }
        var transport = Transport.tcp
        if let p = f.scalar("protocol", required: false, hint: "tcp or udp") {
            if let t = Transport(rawValue: p.scalar!.string) { transport = t } else { fail("expected tcp or udp; got \(describe(p))", p) }
        }
        let address = f.string("address", required: false, hint: "an IP address") ?? "0.0.0.0"
        let parsed = IPAddress(address)
        if parsed == nil, let a = f["address"] { fail("expected an IPv4 or IPv6 address; got '\(address)'", a) }
        let family = parsed?.family ?? (address.contains(":") ? .ipv6 : .ipv4)
        var scope = parsed.map(ExposureScope.init(boundTo:)) ?? .any
        if let s = f.scalar("scope", required: false, hint: "loopback, any or specific") {
            if let v = ExposureScope(rawValue: s.scalar!.string) { scope = v } else { fail("expected loopback, any or specific; got \(describe(s))", s) }
        }
        var hostNetns = true, netns: UInt64 = 4_026_531_840
        if let n = f.scalar("namespace", required: false, hint: "host or an inode number") {
            let text = n.scalar!.string
            if text != "host" {
                if let inode = UInt64(text) { hostNetns = false; netns = inode } else { fail("expected 'host' or an inode number; got '\(text)'", n) }
            }
        }
        var uid: UInt32 = 0
        if let u = f.scalar("uid", required: false, hint: "a number") {
            if let v = UInt32(u.scalar!.string) { uid = v } else { fail("expected a uid; got \(describe(u))", u) }
        }
        var foundBy = Discovery.procfs
        if let d = f.scalar("found_by", required: false, hint: "procfs or pidfd") {
            if let v = Discovery(rawValue: d.scalar!.string) { foundBy = v } else { fail("expected procfs or pidfd; got \(describe(d))", d) }
        }
        let name = f.string("process", required: false, hint: "the owner's name")
        let exe = f.string("exe", required: false, hint: "the owner's executable")
        let user = f.string("user", required: false, hint: "the owner's user name")
        let unit = f.string("unit", required: false, hint: "the owner's systemd unit")
        let container = f.string("container", required: false, hint: "runtime://id")
        guard ok else { return nil }
        let hasOwner = [name, exe, user, unit, container].contains { $0 != nil }
        let owners = hasOwner ? [Owner(pid: 1000, name: name ?? exe.map { String($0.split(separator: "/").last ?? "") } ?? "?",
                                       exe: exe, cmdline: [], uid: uid, user: user, unit: unit, container: container)] : []
        return Listener(transport: transport, family: family, address: address, port: port, scope: scope, netns: netns,
                        hostNetns: hostNetns, inode: UInt64(port), uid: uid, processes: owners, foundBy: foundBy)
    }
}
