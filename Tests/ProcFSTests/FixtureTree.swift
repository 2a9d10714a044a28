import ProcFS

/// The procfs-shaped fixture trees shared with the inventory tests.
enum FixtureTree {
    /// `Tests/HostScanTests/Fixtures`, found from this file's own path.
    static let root: String = {
        let testsDir = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false).dropLast(2)
        return testsDir.joined(separator: "/") + "/HostScanTests/Fixtures"
    }()

    static var proc: ProcFS { ProcFS(root: root + "/proc") }
    static var broken: ProcFS { ProcFS(root: root + "/proc-broken") }
}
