import CollectorStore
import Foundation
import Testing

/// The policy the collector evaluated with, kept in the history: one version per
/// content, and which was in force when — stretches under no policy included.
struct PolicyVersionTests {
    static let a = PolicyVersion(digest: "aaaa", files: [.init(path: "legacy-ports.yaml", content: Array("rules: []\n".utf8)),
                                                         .init(path: "inventory.yaml", content: [0, 0xff, 10])])
    static let b = PolicyVersion(digest: "bbbb", files: [.init(path: "legacy-ports.yaml", content: Array("rules: [x]\n".utf8))])

    @Test(arguments: StoreMaker.all)
    func theSameContentTwiceIsOneVersionAndAPeriodBeginsOnlyOnAChange(_ maker: StoreMaker) async throws {
        let store = try await maker.make()
        #expect(try store.policyVersion(digest: "aaaa") == nil)
        #expect(try store.policyPeriods(since: 0, until: .max).isEmpty)

        try store.recordPolicy(Self.a, at: 100)
        try store.recordPolicy(Self.a, at: 150)  // a restart under the same files
        try store.recordPolicy(nil, at: 200)  // serve --no-policy
        try store.recordPolicy(nil, at: 250)
        try store.recordPolicy(Self.b, at: 300)
        try store.recordPolicy(Self.a, at: 400)  // back to the first: the same version, a new period

        let stored = try #require(try store.policyVersion(digest: "aaaa"))
        #expect(stored.files.map(\.path) == ["inventory.yaml", "legacy-ports.yaml"], "by path")
        #expect(stored.files.first?.content == [0, 0xff, 10], "bytes kept as they were, not as text")
        #expect(try store.policyVersion(digest: "bbbb") == Self.b)
        #expect(try store.policyPeriods(since: 0, until: .max) == [
            PolicyPeriod(since: 100, until: 200, version: "aaaa"), PolicyPeriod(since: 200, until: 300, version: nil),
            PolicyPeriod(since: 300, until: 400, version: "bbbb"), PolicyPeriod(since: 400, until: nil, version: "aaaa"),
        ])
    }

    @Test(arguments: StoreMaker.all)
    func periodsAreThoseOverlappingTheWindow(_ maker: StoreMaker) async throws {
        let store = try await maker.make()
        try store.recordPolicy(Self.a, at: 100)
        try store.recordPolicy(nil, at: 200)
        try store.recordPolicy(Self.b, at: 300)
        // The one in force at `since`, and those begun before `until`; none ending at `since`.
        #expect(try store.policyPeriods(since: 200, until: 300).map(\.version) == [nil])
        #expect(try store.policyPeriods(since: 150, until: 301).map(\.version) == ["aaaa", nil, "bbbb"])
        #expect(try store.policyPeriods(since: 0, until: 100).isEmpty, "before the first recorded: unknown, not none")
        #expect(try store.policyPeriods(since: 5_000, until: 6_000).map(\.version) == ["bbbb"], "still in force")
    }
}
