import PortwardenModel

/// The names a condition can test, and what kind of value each holds. The table is the
/// language's vocabulary: error messages and "did you mean" draw on it.
enum Field: Equatable {
    case port, uid, owners
    case transport, family, scope, foundBy
    case namespace
    case address
    case owner(OwnerField)
    case hostName
    case tag
    case label(String)
    case service

    static let named: [String: Field] = [
        "port": .port, "uid": .uid, "owners": .owners,
        "protocol": .transport, "family": .family, "scope": .scope, "found_by": .foundBy,
        "namespace": .namespace, "address": .address,
        "process.name": .owner(.name), "process.exe": .owner(.exe), "user": .owner(.user),
        "unit": .owner(.unit), "container": .owner(.container),
        "host.name": .hostName, "tag": .tag, "service": .service,
    ]

    /// Every word that may start a test, for suggestions.
    static let vocabulary: [String] = named.keys.sorted() + ["catalog", "label", "host.labels.KEY"]

    static func lookup(_ word: String) -> Field? {
        if let field = named[word] { return field }
        if word.hasPrefix("host.labels."), word.count > "host.labels.".count {
            return .label(String(word.dropFirst("host.labels.".count)))
        }
        return nil
    }

    enum Kind { case integer(ClosedRange<Int>), choice([String]), text, address, namespace }

    var kind: Kind {
        switch self {
        case .port: .integer(0...65_535)
        case .uid: .integer(0...Int(UInt32.max))
        case .owners: .integer(0...Int(Int32.max))
        case .transport: .choice(["tcp", "udp"])
        case .family: .choice(["ipv4", "ipv6"])
        case .scope: .choice(["loopback", "any", "specific"])
        case .foundBy: .choice(["procfs", "pidfd"])
        case .namespace: .namespace
        case .address: .address
        case .owner, .hostName, .tag, .label, .service: .text
        }
    }

    /// Host names and tags compare case-insensitively; process facts exactly.
    var foldsCase: Bool { self == .hostName || self == .tag }
}
