import ConfigFile
import Glibc

/// The collectors an agent is given — `collector:` in agent.yaml (one `host:port` or a
/// list) or `--collector` (repeated) — checked before anything is dialled: each a host
/// name or an address with a port, none twice, at most `limit`.
enum CollectorAddresses {
    /// Enough for any deployment; a longer list costs every report a longer detour when
    /// collectors are down (each one's timeout in turn).
    static let limit = 16

    static let example = "e.g. collector.example:8443, or [2001:db8::1]:8443 for an IPv6 address"

    /// The first entry that is wrong (its index) and what to write instead; nil when all
    /// are good. `flag`: the entries came as `--collector`, not from the file.
    static func problem(in entries: [String], flag: Bool) -> (index: Int, message: String)? {
        if entries.count > limit {
            return (limit, "at most \(limit) collectors; \(entries.count) are listed: list fewer, or put one DNS name in front of them "
                    + "(a name that resolves to several, carried by each one's certificate)")
        }
        var seen: [String: Int] = [:]
        for (index, entry) in entries.enumerated() {
            if let problem = problem(entry, flag: flag) { return (index, problem) }
            guard let endpoint = HostPort(entry) else { continue }
            let key = canonical(endpoint.host) + " " + String(endpoint.port)
            if let earlier = seen[key] {
                return (index, "\(shown(entry)) is listed twice (also as entry \(earlier + 1), \(shown(entries[earlier]))): list each collector once")
            }
            seen[key] = index
        }
        return nil
    }

    /// What is wrong with one entry, and what to write instead.
    static func problem(_ entry: String, flag: Bool) -> String? {
        if entry.isEmpty { return "an empty entry: write host:port, \(example)" }
        // A DNS name (253) in brackets with a port: anything longer is not host:port.
        guard entry.utf8.count <= 263 else { return "\(shown(entry)) is longer than any host:port can be: write host:port, \(example)" }
        if let scheme = entry.firstRange(of: "://") {
            let rest = entry[scheme.upperBound...].prefix { $0 != "/" }
            return "\(shown(entry)): write host:port without a scheme or path, e.g. \(shown(String(rest)))"
        }
        if entry.contains(",") || entry.contains(where: { $0.isWhitespace }) {
            return flag ? "\(shown(entry)): one collector per --collector: repeat the flag (--collector a.example:8443 --collector b.example:8443)"
                : "\(shown(entry)): one collector per entry: write a list, [a.example:8443, b.example:8443], or one \"- host:port\" per line"
        }
        guard let endpoint = HostPort(entry) else { return "\(shown(entry)): expected host:port, \(example)" }
        if entry.hasPrefix("[") {
            var address = in6_addr()
            guard inet_pton(AF_INET6, endpoint.host, &address) == 1 else {
                return "\(shown(entry)): \(shown(endpoint.host)) in brackets is not an IPv6 address: \(example)"
            }
        } else if endpoint.host.contains(":") {
            return "\(shown(entry)): an IPv6 address goes in brackets, [\(endpoint.host)]:\(endpoint.port)"
                + (flag ? "" : " (quoted in YAML: \"[\(endpoint.host)]:\(endpoint.port)\")")
        } else if !isHostName(endpoint.host) {
            return "\(shown(entry)): \(shown(endpoint.host)) is not a host name or an address (letters, digits, \"-\" and \".\"): \(example)"
        }
        return nil
    }

    /// A DNS name or an IPv4 address: labels of letters, digits, "-" and "_" (some
    /// internal zones use it), 1 to 63 bytes, at most 253 in all; a trailing dot allowed.
    static func isHostName(_ host: String) -> Bool {
        let name = host.hasSuffix(".") ? host.dropLast() : host[...]
        guard !name.isEmpty, name.utf8.count <= 253 else { return false }
        // All digits at the end is an address, or meant as one: `127.000.0.1` would be
        // read in octal by the resolver.
        if let last = name.split(separator: ".").last, last.allSatisfy({ $0.isASCII && $0.isNumber }) {
            var address = in_addr()
            return inet_pton(AF_INET, String(name), &address) == 1
        }
        return name.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            (1...63).contains(label.utf8.count) && label.first != "-" && label.last != "-"
                && label.utf8.allSatisfy { $0 < 0x80 && (isalnum(Int32($0)) != 0 || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_")) }
        }
    }

    /// The one form of a host, for spotting a collector listed twice: lower case, no
    /// trailing dot, an address as the kernel writes it (`[::0:1]` is `[::1]`).
    static func canonical(_ host: String) -> String {
        for family in [AF_INET, AF_INET6] {
            var address = in6_addr()  // room for either
            guard inet_pton(family, host, &address) == 1 else { continue }
            var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            guard inet_ntop(family, &address, &text, socklen_t(text.count)) != nil else { break }
            return String(decoding: text.prefix { $0 != 0 }.map(UInt8.init(bitPattern:)), as: UTF8.self)
        }
        let name = host.lowercased()
        return name.hasSuffix(".") ? String(name.dropLast()) : name
    }

    /// An entry as an error quotes it: at most 80 characters, control characters escaped.
    static func shown(_ text: String) -> String {
        String(reflecting: String(text.prefix(80))) + (text.count > 80 ? "…" : "")
    }
}
