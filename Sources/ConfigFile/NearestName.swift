/// "Did you mean …" for config keys and policy files alike: the candidate closest to a misspelt name, if it is close enough to
/// be a plausible typo (at most a third of the name, and at most 3 edits).
public func nearestName(to name: String, in candidates: [String]) -> String? {
    let word = Array(name.lowercased().unicodeScalars)
    var best: (String, Int)?
    for candidate in candidates {
        let d = editDistance(word, Array(candidate.lowercased().unicodeScalars))
        if d < (best?.1 ?? Int.max) { best = (candidate, d) }
    }
    guard let best, best.1 <= min(3, max(1, word.count / 3)) else { return nil }
    return best.0
}


/// Edit distance where swapping two neighbours counts as one edit (optimal string
/// alignment): `prot` is one typo from `port`, not two.
func editDistance(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar]) -> Int {
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var d = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
    for i in 0...a.count { d[i][0] = i }
    for j in 0...b.count { d[0][j] = j }
    for i in 1...a.count {
        for j in 1...b.count {
            let cost = a[i - 1] == b[j - 1] ? 0 : 1
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1) }
        }
    }
    return d[a.count][b.count]
}
