import CollectorStore
import Findings
import PortwardenModel
import PortwardenTestSupport
import Testing

/// The one open/resolve rule, on its own: what ingest, re-evaluation and replay share.
struct FindingDeltaTests {
    static func finding(_ rule: String, _ port: UInt16, waiver: String? = nil) -> ObservedFinding {
        let listener = HistoryFixtures.listener(port, [HistoryFixtures.vmsd])
        return ObservedFinding(identity: ObservedFinding.identity(rule: rule, listener: listener, waiver: waiver), rule: rule,
                               severity: "high", listener: listener, waiver: waiver, policyVersion: "v1")
    }

    static func open(_ id: Int64, _ finding: ObservedFinding) -> OpenFinding { OpenFinding(id: id, netns: finding.listener.netns) }

    @Test func newFindingsOpenOnceEachAndMissingOnesResolve() {
        let a = Self.finding("a", 557), b = Self.finding("b", 55), c = Self.finding("c", 111)
        let open = [a.identity: Self.open(1, a), c.identity: Self.open(3, c)]
        let (opening, resolving) = FindingDelta.between(produced: [b, a, b], open: open, complete: true)
        #expect(opening.map(\.rule) == ["b"], "a is open already; b produced twice (two sockets) opens once")
        #expect(resolving == [3], "c was not produced again")
    }

    @Test func anIncompleteEvaluationResolvesNothing() {
        let a = Self.finding("a", 557), c = Self.finding("c", 111)
        let (opening, resolving) = FindingDelta.between(produced: [a], open: [c.identity: Self.open(3, c)], complete: false)
        #expect(opening.map(\.rule) == ["a"])
        #expect(resolving.isEmpty, "the listener may only have been hidden from the scan")
    }

    /// The namespace is the open finding's data, not read back out of its identity: an
    /// identity in another shape (written by an older release, say) resolves all the same.
    @Test func anEvaluationResolvesOnlyInTheNamespacesItReadInFull() {
        var a = Self.finding("a", 557), c = Self.finding("c", 111)
        c.listener.netns = 4026532500
        c.identity = ObservedFinding.identity(rule: "c", listener: c.listener, waiver: nil)
        let open = [a.identity: Self.open(1, a), c.identity: Self.open(3, c), "an identity of another shape": OpenFinding(id: 9, netns: 4026532500)]
        let host = FindingDelta.between(produced: [], open: open, complete: Completeness(everywhere: false, namespaces: [4026531840]))
        #expect(host.resolve == [1], "557 is gone from the namespace read in full; 111's namespace was not read")
        let other = FindingDelta.between(produced: [], open: open, complete: Completeness(everywhere: false, namespaces: [4026532500]))
        #expect(other.resolve.sorted() == [3, 9])
        #expect(FindingDelta.between(produced: [], open: open, complete: true).resolve.sorted() == [1, 3, 9])
    }

    @Test func aLapsedWaiverIsANewFinding() {
        let waived = Self.finding("a", 557, waiver: "a on web-* until 2030-01-31"), live = Self.finding("a", 557)
        #expect(waived.identity != live.identity)
        let (opening, resolving) = FindingDelta.between(produced: [live], open: [waived.identity: Self.open(7, waived)], complete: true)
        #expect(opening.map(\.identity) == [live.identity] && resolving == [7])
    }

    @Test func ownersAndPolicyVersionAreNotPartOfTheIdentity() {
        var restarted = Self.finding("a", 557)
        restarted.listener.processes[0].pid = 4_242
        restarted.listener.processes[0].cmdline = ["vmsd", "--new-flag"]
        restarted.policyVersion = "v2"
        let again = ObservedFinding.identity(rule: "a", listener: restarted.listener, waiver: nil)
        #expect(again == Self.finding("a", 557).identity)
    }
}
