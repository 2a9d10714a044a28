/// The one rule for a host's name in the fleet, applied wherever a name comes in — an
/// enrollment's certificate request, `portwarden enroll sign --name`, the `hosts`
/// commands, inventory patterns — so that `HOST-X`, `host-x.` and `host-x` are one
/// host and never three: RFC 1123 labels, lower case, no trailing dot.
public enum HostName {
    public static let maxBytes = 253
    public static let maxLabelBytes = 63

    /// The name in its one spelling, or why it cannot name a host.
    public static func normalized(_ text: String) -> Result<String, HostNameError> {
        var name = text.lowercased()
        if name.hasSuffix(".") { name.removeLast() }
        guard !name.isEmpty else { return .failure(HostNameError(text, "it is empty")) }
        guard name.utf8.count <= maxBytes else {
            return .failure(HostNameError(text, "it is longer than \(maxBytes) bytes"))
        }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        for label in labels {
            guard !label.isEmpty else { return .failure(HostNameError(text, "it has an empty label (\"..\", or a leading dot)")) }
            guard label.utf8.count <= maxLabelBytes else {
                return .failure(HostNameError(text, "the label \"\(label)\" is longer than \(maxLabelBytes) bytes"))
            }
            guard label.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D }) else {
                return .failure(HostNameError(text, "only letters a-z, digits and '-' may appear between the dots"))
            }
            guard label.first != "-", label.last != "-" else {
                return .failure(HostNameError(text, "a label may not begin or end with '-'"))
            }
        }
        if IPAddress(name) != nil || labels.last!.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
            return .failure(HostNameError(text, "it reads as an address, not a name"))
        }
        if name == "localhost" || name.hasSuffix(".localhost") || name == "localhost.localdomain" {
            return .failure(HostNameError(text, "localhost is every machine's name for itself"))
        }
        return .success(name)
    }
}

/// A text that cannot be a host's name, and why.
public struct HostNameError: Error, Equatable, CustomStringConvertible, Sendable {
    public let text: String
    public let reason: String

    init(_ text: String, _ reason: String) {
        self.text = text
        self.reason = reason
    }

    public var description: String { "\"\(text)\" is not a host name: \(reason)" }
}
