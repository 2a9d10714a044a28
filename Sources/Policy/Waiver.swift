import Foundation
import PortwardenModel
import Yams

/// A recorded exception (`waivers.yaml`): this rule may fire on these hosts until the
/// expiry day, because someone named took responsibility for a stated reason.
public struct Waiver: Equatable, Sendable {
    public var rule: String
    /// A host-name pattern, compared case-insensitively.
    public var host: String
    /// Only listeners on these ports, when given.
    public var ports: ClosedRange<Int>?
    /// Only listeners some owner of which matches, by name, or by exe when the pattern has a '/'.
    public var process: String?
    public var owner: String
    public var reason: String
    /// The last day (UTC) the waiver holds; from the next midnight UTC the finding is live again.
    public var expires: Day
    public var location: SourceLocation
    let hostGlob: Glob
    let processGlob: Glob?
    /// A process pattern with a `/` names the executable's path, else the process name.
    let processByExe: Bool

    /// What a finding interval records of the waiver that held it: stable when lines
    /// move, different when the waiver's terms (its expiry included) change.
    public var reference: String {
        var text = "\(rule) on \(host)"
        if let portText { text += " port \(portText)" }
        if let process { text += " process \(process)" }
        return text + " until \(expires)"
    }

    /// The ports as written: `557` or `512..514`; nil for any port.
    var portText: String? {
        ports.map { $0.lowerBound == $0.upperBound ? "\($0.lowerBound)" : "\($0.lowerBound)..\($0.upperBound)" }
    }

    /// Whether the waiver still holds on `day`.
    public func isActive(on day: Day) -> Bool { day <= expires }

    func covers(host foldedHost: String, listener: Listener) -> Bool {
        guard hostGlob.matches(foldedHost) else { return false }
        if let ports, !ports.contains(Int(listener.port)) { return false }
        if let processGlob {
            return listener.processes.contains { owner in
                (processByExe ? owner.exe : owner.name).map { processGlob.matches($0) } ?? false
            }
        }
        return true
    }

    static let fields = ["rule", "host", "port", "process", "owner", "reason", "expires"]

    /// The waivers of `waivers.yaml`, warning about those that expire within 14 days of
    /// `today` or have expired.
    static func parse(_ reader: PolicyFileReader, ruleIDs: [String]?, today: Day) -> [Waiver] {
        var waivers: [Waiver] = []
        for node in topList(reader, key: "waivers", what: "the waivers file") ?? [] {
            guard let f = Fields(node, "a waiver", allowed: fields, reader: reader) else { continue }
            let ruleNode = f.scalar("rule", required: true, hint: "the id of the rule waived")
            if let ruleNode, let ruleIDs, let id = ruleNode.scalar?.string, !ruleIDs.contains(id) {
                reader.error("no rule has the id '\(id)'\(suggestion(for: id, in: ruleIDs))", at: ruleNode)
            }
            let hostNode = f.scalar("host", required: true, hint: "a host-name pattern such as 'vms-*'")
            var hostGlob: Glob?
            if let hostNode, let text = hostNode.scalar?.string {
                do throws(GlobError) { hostGlob = try Glob(text, caseInsensitive: true) } catch {
                    reader.report(.error, error.message, in: hostNode, offset: scalarOffset(in: text, utf8: error.offset))
                }
            }
            var ports: ClosedRange<Int>?
            var portsValid = true
            if let portNode = f.scalar("port", required: false, hint: "a port or range such as 512..514") {
                ports = portRange(portNode.scalar!.string)
                if ports == nil {
                    portsValid = false
                    reader.error("expected a port (0-65535) or a range such as 512..514; got \(describe(portNode))", at: portNode)
                }
            }
            var processGlob: Glob?, processValid = true
            let processNode = f.scalar("process", required: false, hint: "a process name or exe pattern")
            if let processNode, let text = processNode.scalar?.string {
                do throws(GlobError) { processGlob = try Glob(text) } catch {
                    processValid = false
                    reader.report(.error, error.message, in: processNode, offset: scalarOffset(in: text, utf8: error.offset))
                }
            }
            let owner = f.string("owner", required: true, hint: "who answers for it, e.g. an e-mail address")
            let reason = f.string("reason", required: true, hint: "why the listener is acceptable")
            let expiresNode = f.scalar("expires", required: true, hint: "the last day it holds, YYYY-MM-DD (UTC)")
            var expires: Day?
            if let expiresNode, let text = expiresNode.scalar?.string {
                expires = Day(iso: text)
                if expires == nil { reader.error("expected a date YYYY-MM-DD (UTC); got '\(text)'", at: expiresNode) }
            }
            guard let rule = ruleNode?.scalar?.string, let hostGlob, let owner, let reason, let expires, let expiresNode,
                  portsValid, processValid else { continue }
            if expires < today {
                reader.warning("this waiver of '\(rule)' for '\(hostGlob.text)' expired on \(expires); its findings are live again", at: expiresNode)
            } else if expires - today < 14 {
                let left = expires - today
                reader.warning("this waiver of '\(rule)' for '\(hostGlob.text)' expires on \(expires), \(left == 0 ? "today" : left == 1 ? "tomorrow" : "in \(left) days")", at: expiresNode)
            }
            waivers.append(Waiver(rule: rule, host: hostGlob.text, ports: ports, process: processGlob?.text, owner: owner,
                                  reason: reason, expires: expires, location: reader.location(of: node),
                                  hostGlob: hostGlob, processGlob: processGlob,
                                  processByExe: processGlob?.text.contains("/") ?? false))
        }
        return waivers
    }
}

/// `557` or `512..514`, within 0-65535.
func portRange(_ text: String) -> ClosedRange<Int>? {
    let parts = text.components(separatedBy: "..")
    guard parts.count <= 2, parts.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } }),
          let low = Int(parts[0]), let high = Int(parts.last!), low <= high, high <= 65_535 else { return nil }
    return low...high
}
