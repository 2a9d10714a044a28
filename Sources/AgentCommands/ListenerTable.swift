import PortwardenModel

/// The people's view of a snapshot: one line per listener, sorted by port, columns
/// aligned, colour only for a terminal. Process names and an unresolved socket's details
/// are whatever the host's processes made them: shown with controls and bidi characters
/// escaped (`VisibleText`), so the only escape sequences written are the table's colours.
public struct ListenerTable {
    public var colour: Bool

    public init(colour: Bool) { self.colour = colour }

    public func render(_ snapshot: Snapshot) -> String {
        let header = ["PROTO", "ADDRESS:PORT", "SCOPE", "NETNS", "OWNERS"]
        let rows = snapshot.listeners.sorted(by: Listener.displayOrder).map { l -> [String] in
            let proto = l.protocolText, endpoint = l.endpointText
            var netns = l.hostNetns ? "host" : String(l.netns)
            if l.foundBy == .pidfd { netns += " (no member)" }
            let owners = l.processes.isEmpty ? "-" : l.processes.map { "\($0.name)[\($0.pid)]" }.joined(separator: ",")
            return [proto, endpoint, l.scope.rawValue, netns, owners].map { VisibleText.escaped($0) }
        }
        let widths = header.indices.map { column in
            ([header] + rows).map { $0[column].count }.max() ?? 0
        }
        func line(_ cells: [String], styles: [String?]) -> String {
            cells.enumerated().map { column, cell in
                let padded = column == cells.count - 1 ? cell : cell + String(repeating: " ", count: widths[column] - cell.count)
                guard colour, let style = styles[column] else { return padded }
                return "\u{1B}[\(style)m\(padded)\u{1B}[0m"
            }.joined(separator: "  ")
        }
        var out = line(header, styles: Array(repeating: "1", count: header.count)) + "\n"
        for row in rows {
            // A listener reachable from every address is the one to look at first.
            let scopeStyle = row[2] == ExposureScope.any.rawValue ? "33" : nil
            out += line(row, styles: [nil, nil, scopeStyle, nil, nil]) + "\n"
        }
        for socket in snapshot.unresolved {
            let owners = socket.processes.map { "\($0.name)[\($0.pid)]" }.joined(separator: ",")
            out += VisibleText.escaped("unresolved socket \(socket.inode) (\(socket.kind ?? "?")) held by \(owners.isEmpty ? "-" : owners): "
                + socket.reason) + "\n"
        }
        return out
    }
}
