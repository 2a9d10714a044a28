/// Room shared among claims the way a report shares what it can hold: fewest first, each
/// an equal share of what is left, so a claim under its share keeps all of it and leaves
/// the rest to the others (max-min fairness). One user binding thousands of ports, or one
/// process forking hundreds of holders, then hides only its own.
///
/// Returns each claim's share, in the claims' order. Among equal claims the earlier ones
/// are served first, so what an uneven split leaves over goes to the later ones.
func fairShares(of room: Int, among claims: [Int]) -> [Int] {
    var shares = [Int](repeating: 0, count: claims.count)
    var room = max(0, room)
    let order = claims.indices.sorted { (claims[$0], $0) < (claims[$1], $1) }
    for (position, index) in order.enumerated() {
        let take = min(max(0, claims[index]), room / (claims.count - position))
        shares[index] = take
        room -= take
    }
    return shares
}
