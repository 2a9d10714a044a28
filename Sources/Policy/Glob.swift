/// A shell-style pattern (`*`, `?`, `[a-z]`, `[!0-9]`, `\*`), matched on UTF-8 bytes so a
/// match allocates nothing.
struct Glob: Equatable, Hashable, Sendable {
    private enum Piece: Equatable, Hashable, Sendable {
        case byte(UInt8)
        case anyScalar
        case anyRun
        case set([ClosedRange<UInt8>], negated: Bool)
    }

    private let pieces: [Piece]
    let text: String

    /// Throws, saying where, when a `[` class is never closed or a range runs backwards.
    init(_ text: String, caseInsensitive: Bool = false) throws(GlobError) {
        self.text = text
        let bytes = Array((caseInsensitive ? text.lowercased() : text).utf8)
        var pieces: [Piece] = []
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            switch b {
            case UInt8(ascii: "*"):
                if pieces.last != .anyRun { pieces.append(.anyRun) }
            case UInt8(ascii: "?"):
                pieces.append(.anyScalar)
            case UInt8(ascii: "\\") where i + 1 < bytes.count:
                i += 1
                pieces.append(.byte(bytes[i]))
            case UInt8(ascii: "["):
                var j = i + 1
                var negated = false
                if j < bytes.count, bytes[j] == UInt8(ascii: "!") || bytes[j] == UInt8(ascii: "^") { negated = true; j += 1 }
                var ranges: [ClosedRange<UInt8>] = []
                var first = true
                while j < bytes.count, bytes[j] != UInt8(ascii: "]") || first {
                    first = false
                    let low = bytes[j]
                    if j + 2 < bytes.count, bytes[j + 1] == UInt8(ascii: "-"), bytes[j + 2] != UInt8(ascii: "]") {
                        let high = bytes[j + 2]
                        guard low <= high else { throw GlobError(offset: i, message: "the range \(Character(Unicode.Scalar(low)))-\(Character(Unicode.Scalar(high))) in '[…]' runs backwards") }
                        ranges.append(low...high)
                        j += 3
                    } else {
                        ranges.append(low...low)
                        j += 1
                    }
                }
                guard j < bytes.count else { throw GlobError(offset: i, message: "'[' opens a character class that is never closed with ']'") }
                pieces.append(.set(ranges, negated: negated))
                i = j
            default:
                pieces.append(.byte(b))
            }
            i += 1
        }
        self.pieces = pieces
    }

    /// A pattern that matches exactly `text`, wildcards and all: what `==` and `in` compare with.
    init(literal text: String, caseInsensitive: Bool = false) {
        self.text = text
        pieces = Array((caseInsensitive ? text.lowercased() : text).utf8).map { .byte($0) }
    }

    func matches(_ string: String) -> Bool {
        var string = string  // withUTF8 makes it contiguous (bridged strings are not)
        return string.withUTF8 { matches($0) }
    }

    /// Iterative matching with one backtrack point per `*`: linear in practice, never recursive.
    func matches(_ subject: UnsafeBufferPointer<UInt8>) -> Bool {
        var p = 0, s = 0
        var starP = -1, starS = 0
        while s < subject.count {
            if p < pieces.count {
                switch pieces[p] {
                case .anyRun:
                    starP = p; starS = s; p += 1
                    continue
                case .byte(let b) where b == subject[s]:
                    p += 1; s += 1
                    continue
                case .anyScalar:
                    p += 1; s += 1
                    while s < subject.count, subject[s] & 0xC0 == 0x80 { s += 1 }
                    continue
                case .set(let ranges, let negated) where ranges.contains(where: { $0.contains(subject[s]) }) != negated:
                    p += 1; s += 1
                    continue
                default:
                    break
                }
            }
            guard starP >= 0 else { return false }
            p = starP + 1
            starS += 1
            s = starS
        }
        while p < pieces.count, pieces[p] == .anyRun { p += 1 }
        return p == pieces.count
    }
}

struct GlobError: Error {
    /// Offset in bytes into the pattern.
    var offset: Int
    var message: String
}
