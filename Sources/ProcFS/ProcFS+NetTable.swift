extension ProcFS {
    /// A socket table as seen from `pid`'s network namespace (`/proc/PID/net/tcp`…);
    /// `pid` "" reads the reader's own (`/proc/net/…`). Parsed as it is read, so a
    /// table of thousands of sockets is never held whole.
    public func netTable(_ table: NetTable, pid: String) throws(ProcFSError)
        -> (entries: [NetTableEntry], errors: [ParseError])
    {
        let relative = pid.isEmpty ? "net/\(table.rawValue)" : "\(pid)/net/\(table.rawValue)"
        var parser = NetTableParser(table: table, file: path(relative))
        try forEachLine(relative) { parser.consume($0) }
        return (parser.entries, parser.errors)
    }
}
