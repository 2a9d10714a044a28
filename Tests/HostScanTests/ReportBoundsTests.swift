import Testing
@testable import HostScan
import PortwardenModel

/// The count bounds on their own: who keeps a place in a report that cannot hold everything.
struct ReportBoundsTests {
    func listener(port: UInt16, uid: UInt32, netns: UInt64 = 1) -> Listener {
        Listener(transport: .tcp, family: .ipv4, address: "0.0.0.0", port: port, scope: .any, netns: netns, hostNetns: true,
                 inode: UInt64(port) << 32 | UInt64(uid), uid: uid, processes: [])
    }

    /// One user with thousands of ports hides only its own: the room is shared out so that
    /// a user with fewer listeners than its share keeps them all.
    @Test func theRoomIsSharedSoOneUserCannotCrowdOutAnother() {
        var listeners = (0..<100).map { listener(port: UInt16(2_000 + $0), uid: 1001) }
        listeners += (0..<5_000).map { listener(port: UInt16(10_000 + $0), uid: 1000) }
        listeners += (0..<3_000).map { listener(port: UInt16(30_000 + $0), uid: 1002) }
        listeners += [listener(port: 22, uid: 0), listener(port: 60_000, uid: 0)]
        listeners.sort(by: Listener.displayOrder)
        let budget = ListenerBudget(&listeners, limit: 1_000)
        let kept = Dictionary(grouping: listeners, by: \.uid).mapValues(\.count)
        // 2 privileged; 998 shared by three: 100 for uid 1001, then 449 and 449.
        #expect(kept == [0: 2, 1001: 100, 1000: 449, 1002: 449])
        #expect(listeners == listeners.sorted(by: Listener.displayOrder))
        #expect(budget.leftOut?.map(\.uid) == [1000, 1002])
        #expect(budget.leftOut?.map(\.listeners) == [5_000 - 449, 3_000 - 449])
        #expect(budget.leftOut?.first?.ports == "10449-14999")
    }

    @Test func portsLeftOutAreWrittenAsRanges() {
        let ports: [UInt16] = [1_024, 1_025, 1_026, 2_000, 65_534, 65_535]
        var listeners = [listener(port: 22, uid: 0)] + ports.map { listener(port: $0, uid: 7) }
        let budget = ListenerBudget(&listeners, limit: 1)
        #expect(budget.leftOut?.first?.ports == "1024-1026,2000,65534-65535")
        #expect(budget.warning?.contains("more than the 1 a report holds") == true)
    }

    /// More uids than a report has room for: those with the most left out are itemised,
    /// the rest only counted.
    @Test func summariesAreBoundedToo() {
        var listeners = (0..<30).map { listener(port: UInt16(2_000 + $0), uid: UInt32(100 + $0)) }
        listeners += (0..<5).map { listener(port: UInt16(3_000 + $0), uid: 99) }
        let budget = ListenerBudget(&listeners, limit: 4)
        #expect(listeners.count == 4)
        #expect(budget.leftOut?.count == 4)
        // Shares of 4 among 31 uids: one each for the last three with one listener, one for uid 99.
        #expect(budget.leftOut?.map(\.uid) == [99, 100, 101, 102])
        #expect(budget.leftOut?.first == ListenerSummary(uid: 99, listeners: 4, protocols: [.tcp], scopes: [.any], ports: "3001-3004"))
        #expect(budget.warning?.contains("(uid 99: 4, uid 100: 1, uid 101: 1, uid 102: 1, and 24 more of other uids)") == true,
                "\(budget.warning ?? "")")
    }

    /// Owners per report: within it every socket lists its holders up to its own bound;
    /// past it every socket its first holder (privileged ones first), then the privileged
    /// ones the rest of theirs, then the others an even share per uid, then per socket.
    @Test func theOwnerRoomGoesToFirstHoldersThenPrivilegedSocketsThenEvenly() {
        let within = OwnerBudget(holders: [1, 300, 0, 5], privileged: [false, false, true, true], uids: [1000, 1000, 0, 0], room: 300)
        #expect(within.listed == [1, 256, 0, 5] && within.leftOutByReport == 0 && within.warning == nil)

        let past = OwnerBudget(holders: [100, 100, 1, 40, 100], privileged: [false, false, false, true, false],
                               uids: [1000, 1000, 1000, 0, 1000], room: 60)
        // First holders: 40's socket, then the four others (5); its other 39 (44); 16 left
        // for three sockets wanting 99 more each and one wanting none: 5, 5, 6 more.
        #expect(past.listed == [6, 6, 1, 40, 7])
        #expect(past.cutByReport == [true, true, false, false, true])
        #expect(past.leftOutByReport == 341 - 60)

        let crowded = OwnerBudget(holders: [3, 3, 3], privileged: [false, true, false], uids: [1000, 0, 1000], room: 2)
        #expect(crowded.listed == [1, 1, 0], "the privileged socket first, then the others in order")

        // uid 1000's three sockets of forked holders and uid 1001's one: 6 to share after
        // the first holders, 4 and 2 by uid — 1001's socket lists all of its 3.
        let users = OwnerBudget(holders: [100, 100, 100, 3], privileged: [false, false, false, false],
                                uids: [1000, 1000, 1000, 1001], room: 10)
        #expect(users.listed == [2, 2, 3, 3], "\(users.listed)")

        // A socket hidden from every table (no uid) goes with the privileged ones.
        let hidden = OwnerBudget(holders: [5, 5], privileged: [false, false], uids: [1000, nil], room: 6)
        #expect(hidden.listed == [1, 5], "\(hidden.listed)")
        #expect(OwnerBudget.note(holders: 3, listed: 0, cutByReport: true)
                == "3 processes hold it, none listed: a report lists at most 4096 processes in all, shared among its sockets")
        #expect(OwnerBudget.note(holders: 300, listed: 256, cutByReport: false) == "44 more processes hold it; the first 256 by pid are listed")
        #expect(OwnerBudget.note(holders: 3, listed: 3, cutByReport: false) == nil)
    }

    @Test func fairSharesGiveSmallClaimsAllAndSplitTheRest() {
        #expect(fairShares(of: 10, among: [2, 100, 100]) == [2, 4, 4])
        #expect(fairShares(of: 10, among: [100, 100, 100]) == [3, 3, 4])
        #expect(fairShares(of: 100, among: [2, 3]) == [2, 3])
        #expect(fairShares(of: 0, among: [1, 1]) == [0, 0])
    }

    @Test func namespacesPastTheBoundKeepTheHostsAndThoseWithListeners() {
        let limit = WireLimits.namespacesPerReport
        var all = (0..<(limit + 10)).map { NetworkNamespace(inode: UInt64(1_000 + $0), host: false, processes: 1, tablesFrom: nil) }
        all.append(NetworkNamespace(inode: 999_999, host: false, processes: 0, tablesFrom: nil))
        all[limit + 5].host = true
        let kept = ReportBounds.namespaces(all, holding: [listener(port: 80, uid: 0, netns: 999_999)])
        #expect(kept.count == limit)
        #expect(kept.contains { $0.host } && kept.contains { $0.inode == 999_999 })
        #expect(kept == kept.sorted { $0.inode < $1.inode })
        #expect(ReportBounds.namespaces(Array(all.prefix(limit)), holding: []) == Array(all.prefix(limit)))
    }

    @Test func warningsAreRedactedCutAndCounted() {
        let long = String(repeating: "w", count: WireLimits.stringBytes * 2)
        let warnings = ReportBounds.warnings(["token=abc", long] + Array(repeating: "x", count: 300), redaction: Redaction())
        #expect(warnings.count == WireLimits.warningsPerReport)
        #expect(warnings[0] == "token=<redacted>")
        #expect(warnings[1].utf8.count == WireLimits.stringBytes)
        #expect(warnings.last == "47 more warnings are left out: a report holds 256")
        #expect(ReportBounds.warnings(Array(repeating: "x", count: 256), redaction: Redaction()).count == 256)
    }
}

/// `sortForDisplay` moves the listeners once each; the order is `displayOrder`'s.
struct DisplayOrderTests {
    @Test func sortingByIndexGivesTheSameOrder() {
        var generator = SystemRandomNumberGenerator()
        let addresses = ["0.0.0.0", "127.0.0.1", "::", "::1", "10.0.0.2"]
        var listeners = (0..<2_000).map { index in
            Listener(transport: Bool.random(using: &generator) ? .tcp : .udp, family: index % 3 == 0 ? .ipv6 : .ipv4,
                     address: addresses.randomElement(using: &generator)!, port: UInt16.random(in: 1...40, using: &generator),
                     scope: .any, netns: UInt64.random(in: 1...3, using: &generator), hostNetns: true,
                     inode: UInt64(index), uid: 0, processes: [])
        }
        let expected = listeners.sorted(by: Listener.displayOrder)
        Listener.sortForDisplay(&listeners)
        #expect(listeners == expected)
        var none: [Listener] = []
        Listener.sortForDisplay(&none)
        #expect(none.isEmpty)
    }
}
