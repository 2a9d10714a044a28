/// `/proc/PID/cgroup`, reduced to what names an owner: its systemd unit and, when the
/// path shows one, the container it runs in.
public struct ProcessCgroup: Equatable, Sendable {
    /// The unified (v2) path, else the systemd (v1 `name=systemd`) one, else the first.
    public var path: String

    public init(path: String) { self.path = path }

    /// Lines are `hierarchy-ID:controllers:path`; every line must be one.
    public static func parse(_ bytes: [UInt8], file: String) -> Result<ProcessCgroup, ParseError> {
        var unified: String?, systemd: String?, first: String?
        var lineNumber = 0
        for line in bytes.split(separator: 0x0A, omittingEmptySubsequences: false) {
            lineNumber += 1
            if line.isEmpty { continue }
            let parts = line.split(separator: UInt8(ascii: ":"), maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3, parts[2].first == UInt8(ascii: "/") else {
                return .failure(ParseError(file: file, line: lineNumber,
                                           reason: "expected \"ID:controllers:/path\"",
                                           text: String(decoding: line, as: UTF8.self)))
            }
            let path = String(decoding: parts[2], as: UTF8.self)
            if parts[0].elementsEqual("0".utf8) && parts[1].isEmpty { unified = path }
            if parts[1].elementsEqual("name=systemd".utf8) { systemd = path }
            if first == nil { first = path }
        }
        // A hybrid host shows "0::/" beside the v1 hierarchies that hold the real path.
        let chosen = unified == "/" ? (systemd ?? first) : (unified ?? systemd ?? first)
        guard let chosen else {
            return .failure(ParseError(file: file, line: 1, reason: "expected at least one cgroup line", text: ""))
        }
        return .success(ProcessCgroup(path: chosen))
    }

    /// The deepest `.service` or `.scope` in the path: `sshd.service`,
    /// `docker-<id>.scope`, `session-3.scope`.
    public var unit: String? {
        path.split(separator: "/").last { $0.hasSuffix(".service") || $0.hasSuffix(".scope") }.map(String.init)
    }

    /// `runtime://id` for the deepest container the path names: docker, containerd,
    /// CRI-O, podman, LXC, or a Kubernetes pod whose runtime the path does not say.
    public var container: String? {
        let parts = path.split(separator: "/").map(String.init)
        for (index, part) in parts.enumerated().reversed() {
            for (prefix, runtime) in Self.scopePrefixes where part.hasPrefix(prefix) && part.hasSuffix(".scope") {
                let id = part.dropFirst(prefix.count).dropLast(".scope".count)
                if Self.isContainerID(id) { return "\(runtime)://\(id)" }
            }
            if part.hasPrefix("lxc.payload.") { return "lxc://\(part.dropFirst("lxc.payload.".count))" }
            guard index > 0 else { continue }
            let parent = parts[index - 1]
            if parent == "lxc" { return "lxc://\(part)" }
            guard Self.isContainerID(part[...]) else { continue }
            switch parent {
            case "docker": return "docker://\(part)"
            case "libpod_parent": return "podman://\(part)"
            default:
                if parent.hasPrefix("libpod-") { return "podman://\(part)" }
                if parts.contains(where: { $0.hasPrefix("kubepods") }) { return "kubernetes://\(part)" }
            }
        }
        return nil
    }

    private static let scopePrefixes = [
        ("docker-", "docker"), ("cri-containerd-", "containerd"), ("crio-", "cri-o"), ("libpod-", "podman"),
    ]

    /// Runtimes name containers with 64 hex digits.
    private static func isContainerID(_ s: Substring) -> Bool {
        s.utf8.count == 64 && s.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }
}
