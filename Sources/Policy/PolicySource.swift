import Foundation

/// One policy file's bytes and name. Loading works on these, so the engine itself never
/// touches the disk; `read(directory:)` is the one place that does.
public struct PolicySource: Equatable, Sendable {
    /// Relative to the policy directory (`legacy-ports.yaml`, `tests/r-commands.yaml`):
    /// it decides what the file is, and it goes into the policy version.
    public var path: String
    /// How messages name the file (e.g. `Policies/legacy-ports.yaml`).
    public var displayPath: String
    public var bytes: [UInt8]

    public init(path: String, displayPath: String? = nil, bytes: [UInt8]) {
        self.path = path
        self.displayPath = displayPath ?? path
        self.bytes = bytes
    }

    public init(path: String, displayPath: String? = nil, text: String) {
        self.init(path: path, displayPath: displayPath, bytes: Array(text.utf8))
    }

    public enum Kind: Sendable { case rules, catalog, inventory, waivers, tests }

    /// By name: `catalog.yaml`, `inventory.yaml`, `waivers.yaml`, anything under `tests/`;
    /// every other YAML file holds rules.
    public var kind: Kind {
        let components = path.split(separator: "/")
        if components.dropLast().last == "tests" { return .tests }
        switch components.last.map(String.init)?.replacingOccurrences(of: ".yml", with: ".yaml") {
        case "catalog.yaml": return .catalog
        case "inventory.yaml": return .inventory
        case "waivers.yaml": return .waivers
        default: return .rules
        }
    }

    /// The `*.yaml`/`*.yml` files of a policy directory and of its `tests/`, in name order.
    public static func read(directory: String) throws -> [PolicySource] {
        let base = URL(fileURLWithPath: directory)
        var sources: [PolicySource] = []
        for sub in ["", "tests"] {
            let folder = sub.isEmpty ? base : base.appendingPathComponent(sub)
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else {
                if sub.isEmpty { _ = try FileManager.default.contentsOfDirectory(atPath: folder.path) }
                continue
            }
            for name in names.sorted() where name.hasSuffix(".yaml") || name.hasSuffix(".yml") {
                let relative = sub.isEmpty ? name : "\(sub)/\(name)"
                let data = try Data(contentsOf: folder.appendingPathComponent(name))
                sources.append(PolicySource(path: relative, displayPath: (directory as NSString).appendingPathComponent(relative),
                                            bytes: Array(data)))
            }
        }
        return sources
    }
}
