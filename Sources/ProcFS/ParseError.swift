/// A line a parser refused: the file and 1-based line it came from, what was wrong,
/// and the line itself so the warning can be checked against the source.
public struct ParseError: Error, Equatable, CustomStringConvertible, Sendable {
    public let file: String
    public let line: Int
    public let reason: String
    public let text: String

    public init(file: String, line: Int, reason: String, text: String) {
        self.file = file
        self.line = line
        self.reason = reason
        self.text = text
    }

    public var description: String { "\(file):\(line): \(reason): \"\(text)\"" }
}
