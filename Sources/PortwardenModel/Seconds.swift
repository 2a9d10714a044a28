/// A duration as people write it, the same in every flag and config key: `90s`, `15m`,
/// `12h`, `7d`, `2w`; a bare number is seconds.
public struct Seconds: Equatable, Comparable, Sendable, CustomStringConvertible {
    public let value: Int

    public init(_ value: Int) { self.value = value }

    static let units: [(suffix: Character, seconds: Int)] = [("s", 1), ("m", 60), ("h", 3_600), ("d", 86_400), ("w", 604_800)]

    /// nil unless `text` is a whole number, optionally followed by one of s, m, h, d, w.
    public init?(_ text: String) {
        var digits = Substring(text.replacing("_", with: ""))
        var unit = 1
        if let last = digits.last, let found = Self.units.first(where: { $0.suffix == last }) {
            unit = found.seconds
            digits = digits.dropLast()
        }
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), let number = Int(digits), number >= 0 else { return nil }
        let (product, overflow) = number.multipliedReportingOverflow(by: unit)
        guard !overflow else { return nil }
        value = product
    }

    /// The largest unit that divides it: `900` reads `15m`, `86400` reads `1d`.
    public var description: String {
        guard value > 0, let unit = Self.units.last(where: { value % $0.seconds == 0 }) else { return "\(value)s" }
        return "\(value / unit.seconds)\(unit.suffix)"
    }

    public static func < (a: Seconds, b: Seconds) -> Bool { a.value < b.value }

    /// What an error says a value must look like.
    public static let syntax = "a duration such as 90s, 15m, 12h, 7d or 2w (a bare number is seconds)"
}
