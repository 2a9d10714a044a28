/// A report that says "the same as the snapshot you acknowledged": the host, this
/// report's place in its order and time, and the state digest it shares with that
/// snapshot (`Snapshot.stateDigest`), without the listeners. `POST /v1/reports/unchanged`
/// (docs/wire-format.md, "Unchanged reports"). The collector stores it as it would the
/// full snapshot — its times, its receipt — or, when it does not hold that state for the
/// host, answers 409 and the agent sends the snapshot in full.
public struct UnchangedReport: Equatable, Sendable {
    public var schema: Int
    /// The name in the host's certificate.
    public var hostname: String
    public var bootID: String?
    public var sequence: UInt64?
    public var collectedAt: String
    /// 64 lowercase hex digits.
    public var stateDigest: String
    public var warnings: [String]

    public init(schema: Int = Snapshot.currentSchema, hostname: String, bootID: String?, sequence: UInt64?,
                collectedAt: String, stateDigest: String, warnings: [String]) {
        self.schema = schema
        self.hostname = hostname
        self.bootID = bootID
        self.sequence = sequence
        self.collectedAt = collectedAt
        self.stateDigest = stateDigest
        self.warnings = warnings
    }

    /// `snapshot` said as unchanged from the state `stateDigest` names (its own digest).
    public init(_ snapshot: Snapshot, stateDigest: String) {
        self.init(schema: snapshot.schema, hostname: snapshot.host.hostname, bootID: snapshot.host.bootID,
                  sequence: snapshot.sequence, collectedAt: snapshot.collectedAt, stateDigest: stateDigest,
                  warnings: snapshot.warnings)
    }

    /// Where the collector takes it (a full snapshot goes to `/v1/reports`).
    public static let path = "/v1/reports/unchanged"

    /// Whether `text` has the shape of a state digest: SHA-256 as lowercase hex.
    public static func isDigest(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    enum CodingKeys: String, CodingKey {
        case schema, host, sequence, warnings
        case collectedAt = "collected_at"
        case stateDigest = "state_digest"
    }
}

extension UnchangedReport: WireEncodable {
    public func write(to w: inout JSONWriter) {
        w.beginObject()
        w.key(CodingKeys.schema); w.value(schema)
        w.key(CodingKeys.host)
        w.beginObject()
        w.key(Host.CodingKeys.hostname); w.value(hostname)
        w.key(Host.CodingKeys.bootID); w.value(bootID)
        w.endObject()
        w.key(CodingKeys.sequence); w.value(sequence)
        w.key(CodingKeys.collectedAt); w.value(collectedAt)
        w.key(CodingKeys.stateDigest); w.value(stateDigest)
        w.key(CodingKeys.warnings); w.value(warnings)
        w.endObject()
    }

    /// The body to send.
    public var wire: [UInt8] {
        var w = JSONWriter()
        w.value(self)
        return w.buffer
    }
}

extension UnchangedReport: WireDecodable {
    /// Reads a report body; bounded as a snapshot's fields are (`WireLimits`).
    public init(wire bytes: [UInt8]) throws(WireError) { self = try WireReader.decode(UnchangedReport.self, from: bytes) }

    public init(wire r: inout WireReader) throws(WireError) {
        r.maxStringBytes = WireLimits.stringBytes
        var schema: Int?, host: Host?, sequence: UInt64?, collectedAt: String?, stateDigest: String?, warnings: [String]?
        try r.object { (r: inout WireReader, key: String) throws(WireError) in
            switch key {
            case CodingKeys.schema.rawValue: schema = try r.int()
            case CodingKeys.host.rawValue: host = try Host(wire: &r)
            case CodingKeys.sequence.rawValue: sequence = try r.optionalInt(in: storableUInt64)
            case CodingKeys.collectedAt.rawValue: collectedAt = try r.string()
            case CodingKeys.stateDigest.rawValue:
                let start = r.offset()
                let text = try r.string()
                guard Self.isDigest(text) else { throw r.error("a state digest is 64 lowercase hex digits", at: start) }
                stateDigest = text
            case CodingKeys.warnings.rawValue:
                warnings = try r.strings(atMost: WireLimits.warningsPerReport, "warnings in one report")
            default: try r.skip()
            }
        }
        guard let schema else { throw r.missing(CodingKeys.schema) }
        guard let host else { throw r.missing(CodingKeys.host) }
        guard let collectedAt else { throw r.missing(CodingKeys.collectedAt) }
        guard let stateDigest else { throw r.missing(CodingKeys.stateDigest) }
        self.init(schema: schema, hostname: host.hostname, bootID: host.bootID, sequence: sequence, collectedAt: collectedAt,
                  stateDigest: stateDigest, warnings: warnings ?? [])
    }
}
