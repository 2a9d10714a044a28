/// One problem found in a policy file, pointing at the place to fix it.
public struct Diagnostic: Equatable, Hashable, Sendable, CustomStringConvertible {
    public enum Level: String, Sendable { case error, warning }

    public var level: Level
    /// The file as it was named when loaded (relative to the policy directory).
    public var file: String
    /// 1-based, like an editor's.
    public var line: Int
    /// 1-based, counted in Unicode scalars (libyaml's count).
    public var column: Int
    public var message: String

    public init(_ level: Level, file: String, line: Int, column: Int, message: String) {
        self.level = level
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    /// `file:line:column: error: message`, the shape editors and compilers use.
    public var description: String { "\(file):\(line):\(column): \(level.rawValue): \(message)" }
}

/// Where something was written: kept on rules and waivers so later messages can point back.
public struct SourceLocation: Equatable, Hashable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }
}
