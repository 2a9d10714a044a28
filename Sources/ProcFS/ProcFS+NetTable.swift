extension ProcFS {
    /// Calls `body` with each row of a socket table as seen from `pid`'s network
    /// namespace (`/proc/PID/net/tcp`…; `pid` "" reads `/proc/net/…`), as it is read:
    /// a table of thousands of sockets is never held whole. Returns the refused lines.
    public func forEachNetTableEntry(_ table: NetTable, pid: String,
                                     _ body: (NetTableEntry) -> Void) throws(ProcFSError) -> [ParseError] {
        let relative = pid.isEmpty ? "net/\(table.rawValue)" : "\(pid)/net/\(table.rawValue)"
        var parser = NetTableParser(table: table, file: path(relative))
        try forEachLine(relative) { line in
            if let entry = parser.consume(line) { body(entry) }
        }
        return parser.errors
    }

    /// The whole table: its rows and its refused lines.
    public func netTable(_ table: NetTable, pid: String) throws(ProcFSError)
        -> (entries: [NetTableEntry], errors: [ParseError])
    {
        var entries: [NetTableEntry] = []
        let errors = try forEachNetTableEntry(table, pid: pid) { entries.append($0) }
        return (entries, errors)
    }
}
