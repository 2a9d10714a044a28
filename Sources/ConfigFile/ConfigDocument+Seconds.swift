import PortwardenModel

extension ConfigDocument {
    /// A duration key (`Seconds`), within `range` seconds.
    public func seconds(_ key: String, in range: ClosedRange<Int>) throws(ConfigError) -> Seconds? {
        guard let text = try string(key) else { return nil }
        guard let value = Seconds(text), range.contains(value.value) else {
            throw error(key, "\"\(key)\" must be \(Seconds.syntax), from \(Seconds(range.lowerBound)) to \(Seconds(range.upperBound)); got \"\(text)\"")
        }
        return value
    }
}
