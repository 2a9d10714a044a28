/// One name pattern of `Redaction`: a name with `*` for any run of characters, matched
/// without regard to case, leading dashes, or the `-`, `_` and `.` between words — so
/// `*_TOKEN` matches `GITHUB_TOKEN`, `--github-token` and `github.token` alike.
struct KeyPattern: Sendable, Equatable {
    /// The literal pieces between the stars, normalized.
    private let pieces: [[UInt8]]

    /// Names longer than this are not taken for option or variable names.
    static let longestName = 256

    /// nil unless `text` is letters, digits, `-`, `_`, `.` and `*`, with a letter or digit.
    init?(validated text: String) {
        let bytes = Array(text.utf8)
        guard bytes.allSatisfy({ Self.isNameByte($0) || $0 == UInt8(ascii: "*") }),
              bytes.contains(where: { Self.isWordByte($0) })
        else { return nil }
        pieces = bytes.split(separator: UInt8(ascii: "*"), omittingEmptySubsequences: false).map { Self.normalize($0) }
    }

    /// Lower case, without `-`, `_` and `.`.
    static func normalize(_ name: some Collection<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(name.count)
        for byte in name where byte != UInt8(ascii: "-") && byte != UInt8(ascii: "_") && byte != UInt8(ascii: ".") {
            out.append(byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte)
        }
        return out
    }

    /// Whether a normalized name matches: the first piece starts it, the last ends it, the
    /// ones between appear in order (leftmost is right for `*`-only patterns). Linear in
    /// the name; no backtracking.
    func matches(_ name: [UInt8]) -> Bool {
        guard pieces.count > 1 else { return name == pieces[0] }
        let first = pieces[0], last = pieces[pieces.count - 1]
        guard name.count >= first.count + last.count, name.starts(with: first),
              name[(name.count - last.count)...].elementsEqual(last)
        else { return false }
        var at = first.count
        let end = name.count - last.count
        for piece in pieces[1..<(pieces.count - 1)] where !piece.isEmpty {
            guard let found = Self.find(piece, in: name, from: at, to: end) else { return false }
            at = found + piece.count
        }
        return true
    }

    private static func find(_ piece: [UInt8], in name: [UInt8], from start: Int, to end: Int) -> Int? {
        guard end - start >= piece.count else { return nil }
        for index in start...(end - piece.count) where name[index] == piece[0] {
            if name[index..<(index + piece.count)].elementsEqual(piece) { return index }
        }
        return nil
    }

    /// The whole of `argument` when it is a name (`--api-key`, `-k`), else nil.
    static func name(of argument: String) -> String.UTF8View? {
        let utf8 = argument.utf8
        return utf8.count <= longestName && utf8.allSatisfy(isNameByte) ? utf8 : nil
    }

    /// What option, variable and parameter names are made of.
    static func isNameByte(_ byte: UInt8) -> Bool {
        isWordByte(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
    }

    private static func isWordByte(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
    }
}
