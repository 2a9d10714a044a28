import PortwardenModel
import Yams

/// How much a finding matters, lowest first.
public enum Severity: String, CaseIterable, Comparable, Sendable {
    case info, low, medium, high, critical

    public static func < (a: Severity, b: Severity) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// One rule: a finding for each listener its `when` matches, unless `unless` does.
public struct Rule: Equatable, Sendable {
    public let id: String
    /// One line, in plain words: what is wrong and why it matters.
    public let why: String
    public let severity: Severity
    /// The conditions as written, for showing.
    public let when: String
    public let unless: String?
    public let location: SourceLocation
    let whenCondition: Condition
    let unlessCondition: Condition?
}


/// Everything a condition is compiled against, shared by the rules of one policy.
struct RuleContext {
    let catalog: LegacyCatalog?
    let hostTests = ConditionParser.HostTests()
    /// Tags some host can carry; nil when no inventory was loaded, so none is checked.
    let knownTags: Set<String>?
}

extension Rule {
    static let fields = ["id", "why", "severity", "when", "unless"]

    /// The rules of one rule file; problems go to the reader.
    static func parse(_ reader: PolicyFileReader, context: RuleContext) -> [Rule] {
        var rules: [Rule] = []
        for node in topList(reader, key: "rules", what: "a rule file") ?? [] {
            guard let f = Fields(node, "a rule", allowed: fields, reader: reader) else { continue }
            let idNode = f.scalar("id", required: true, hint: "a short name such as 'openvms-sysipc-off-openvms'")
            if let idNode, let id = idNode.scalar?.string, !isRuleID(id) {
                reader.error("a rule id is letters, digits, '.', '_' and '-', starting with a letter or digit; got '\(id)'", at: idNode)
            }
            let why = f.scalar("why", required: true, hint: "one line in plain words")
            if let why, why.scalar!.string.contains("\n") {
                reader.error("'why' is one line; put details in a comment", at: why)
            }
            let severityNode = f.scalar("severity", required: true, hint: Severity.allCases.map(\.rawValue).joined(separator: ", "))
            var severity: Severity?
            if let severityNode, let text = severityNode.scalar?.string {
                severity = Severity(rawValue: text)
                if severity == nil {
                    reader.error("severity is one of \(Severity.allCases.map(\.rawValue).joined(separator: ", ")); got '\(text)'\(suggestion(for: text, in: Severity.allCases.map(\.rawValue)))", at: severityNode)
                }
            }
            let whenNode = f.scalar("when", required: true, hint: "a condition such as 'port 557'")
            let unlessNode = f.scalar("unless", required: false, hint: "a condition such as 'tag OpenVMS'")
            let when = whenNode.flatMap { compile($0, reader: reader, context: context) }
            let unless = unlessNode.flatMap { compile($0, reader: reader, context: context) }
            guard let idNode, let id = idNode.scalar?.string, isRuleID(id), let why, let severity, let whenNode, let when,
                  unlessNode == nil || unless != nil else { continue }
            rules.append(Rule(id: id, why: why.scalar!.string, severity: severity, when: whenNode.scalar!.string,
                              unless: unlessNode?.scalar?.string, location: reader.location(of: idNode),
                              whenCondition: when, unlessCondition: unless))
        }
        return rules
    }

    private static func compile(_ node: Node, reader: PolicyFileReader, context: RuleContext) -> Condition? {
        let text = node.scalar!.string
        do throws(ExpressionError) {
            let (condition, warnings) = try ConditionParser.compile(text, catalog: context.catalog, hostTests: context.hostTests,
                                                                    knownTags: context.knownTags)
            for w in warnings { reader.report(.warning, w.message, in: node, offset: w.offset) }
            return condition
        } catch {
            reader.report(.error, error.message, in: node, offset: error.offset)
            return nil
        }
    }
}


func isRuleID(_ text: String) -> Bool {
    guard let first = text.unicodeScalars.first, first.properties.isAlphabetic || ("0"..."9").contains(first) else { return false }
    return isTagName(text)
}
