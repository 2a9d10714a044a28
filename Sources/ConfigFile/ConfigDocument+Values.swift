/// Typed reads: each names the key and its position when the value does not fit.
extension ConfigDocument {
    public func error(_ key: String, _ message: String) -> ConfigError {
        let at = scalars[key]?.at ?? keys[key] ?? ConfigPosition(line: 0, column: 0)
        return ConfigError(file: file, line: at.line, column: at.column, message: message)
    }

    public func string(_ key: String) throws(ConfigError) -> String? {
        if nulls.contains(key) { return nil }
        if sequences[key] != nil || (scalars[key] == nil && keys[key] != nil) {
            throw error(key, "\"\(key)\" takes a single value")
        }
        return scalars[key]?.value
    }

    public func int(_ key: String, in range: ClosedRange<Int>) throws(ConfigError) -> Int? {
        guard let text = try string(key) else { return nil }
        guard let value = Int(text.replacing("_", with: "")), range.contains(value) else {
            throw error(key, "\"\(key)\" must be a whole number from \(range.lowerBound) to \(range.upperBound); got \"\(text)\"")
        }
        return value
    }

    /// `true` or `false` (YAML's spelling), nothing else: a typo is not read as either.
    public func bool(_ key: String) throws(ConfigError) -> Bool? {
        guard let text = try string(key) else { return nil }
        switch text {
        case "true": return true
        case "false": return false
        default: throw error(key, "\"\(key)\" is true or false; got \"\(text)\"")
        }
    }

    public func strings(_ key: String) throws(ConfigError) -> [String]? {
        if let scalar = scalars[key] { return [scalar.value] }
        return sequences[key]?.map(\.value)
    }

    /// The scalar entries directly under `key`, e.g. a `labels:` mapping.
    public func mapping(_ key: String) -> [String: String] {
        let prefix = key + "."
        var result: [String: String] = [:]
        for (path, entry) in scalars where path.hasPrefix(prefix) && !path.dropFirst(prefix.count).contains(".") {
            result[String(path.dropFirst(prefix.count))] = entry.value
        }
        return result
    }

    /// Refuses any key outside `known` (dotted; "labels.*" admits every key under
    /// labels), suggesting the nearest known one.
    public func requireOnly(_ known: [String]) throws(ConfigError) {
        let open = known.filter { $0.hasSuffix(".*") }.map { String($0.dropLast()) }
        let exact = Set(known.filter { !$0.hasSuffix(".*") })
        let parents = Set(exact.flatMap { key in
            key.split(separator: ".").dropLast().indices.map { key.split(separator: ".")[...$0].joined(separator: ".") }
        })
        for (key, at) in keys.sorted(by: { $0.value.line < $1.value.line }) {
            if exact.contains(key) || parents.contains(key) || open.contains(where: { key.hasPrefix($0) || key + "." == $0 }) {
                continue
            }
            var message = "unknown key \"\(key)\""
            if let nearest = nearestName(to: key, in: known) {
                message += "; did you mean \"\(nearest)\"?"
            } else {
                message += "; expected one of: " + known.joined(separator: ", ")
            }
            throw ConfigError(file: file, line: at.line, column: at.column, message: message)
        }
    }
}
