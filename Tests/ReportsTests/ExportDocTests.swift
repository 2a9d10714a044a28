import CollectorStore
import Foundation
import PortwardenModel
import Reports
import Testing

/// docs/exports.md is the contract: its column tables, read as a program would, against
/// what `export` writes — every kind, CSV's header and JSON's keys in order, every JSON
/// value's type, the schema version.
@Suite(.serialized)
struct ExportDocTests {
    /// docs/exports.md as tables: each kind's (column, type) rows, the owners' (key, CSV
    /// column, type) rows, the schema version it states.
    struct Doc {
        var kinds: [String: [(column: String, type: String)]] = [:]
        var owners: [(key: String, column: String, type: String)] = []
        var schema: Int?

        init() throws {
            let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent("docs/exports.md").path
            var section = ""
            for line in try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false) {
                if line.hasPrefix("## ") { section = String(line.dropFirst(3)).replacing("`", with: ""); continue }
                if schema == nil, let match = line.firstMatch(of: /`schema` is \*\*(\d+)\*\*/) { schema = Int(match.1) }
                // A table's body row: `| `name` | … |`; the header and the |---| line have no backquoted first cell.
                let cells = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
                guard line.hasPrefix("|"), cells.count > 3, cells[1].hasPrefix("`") else { continue }
                let name = cells[1].replacing("`", with: "")
                if section == "Owners" {
                    owners.append((name, cells[2].replacing("`", with: ""), cells[3]))
                } else if ExportKind(rawValue: section) != nil {
                    kinds[section, default: []].append((name, cells[2]))
                }
            }
        }

        func jsonColumns(_ kind: ExportKind) -> [String] { kinds[kind.rawValue, default: []].map(\.column) }

        /// `owners` stands for the owner columns in CSV.
        func csvColumns(_ kind: ExportKind) -> [String] {
            jsonColumns(kind).flatMap { $0 == "owners" ? owners.map(\.column) : [$0] }
        }
    }

    /// A JSON value as parsed, its type kept (JSONSerialization blurs booleans and numbers).
    indirect enum JSON: Decodable, Equatable {
        case null, bool(Bool), int(Int64), string(String), array([JSON]), object([String: JSON])

        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if c.decodeNil() { self = .null }
            else if let v = try? c.decode(Bool.self) { self = .bool(v) }
            else if let v = try? c.decode(Int64.self) { self = .int(v) }
            else if let v = try? c.decode(String.self) { self = .string(v) }
            else if let v = try? c.decode([JSON].self) { self = .array(v) }
            else { self = .object(try c.decode([String: JSON].self)) }
        }

        subscript(key: String) -> JSON? { if case .object(let o) = self { o[key] } else { nil } }
    }

    /// Whether `value` is what the doc's `type` says ("string", "time or null", "owners", …).
    static func matches(_ value: JSON, _ type: String, owners: [(key: String, column: String, type: String)]) -> Bool {
        if type.hasSuffix(" or null") {
            return value == .null || matches(value, String(type.dropLast(" or null".count)), owners: owners)
        }
        switch (type, value) {
        case ("string", .string), ("integer", .int), ("boolean", .bool): return true
        case ("time", .string(let text)): return Timestamp.seconds(rfc3339: text) != nil
        case ("array of strings", .array(let items)):
            return items.allSatisfy { if case .string = $0 { true } else { false } }
        case ("owners", .array(let items)):
            return items.allSatisfy { item in
                guard case .object(let fields) = item, Set(fields.keys) == Set(owners.map(\.key)) else { return false }
                return owners.allSatisfy { matches(fields[$0.key]!, $0.type, owners: owners) }
            }
        default: return false
        }
    }

    func export(_ kind: ExportKind, _ format: DataFormat, _ fleet: FleetHistory) throws -> String {
        let path = fleet.directory + "/export.\(kind.rawValue).\(format.rawValue)"
        let output = try ReportOutput(path: path)
        try Exporter(database: fleet.database, staleAfter: 86_400)
            .export(kind, window: FleetHistory.window, now: FleetHistory.until, format: format, output: output)
        try output.commit()
        return try String(contentsOfFile: path, encoding: .utf8)
    }

    @Test func everyKindsColumnsAndTypesAreTheDocumented() throws {
        let doc = try Doc()
        #expect(Set(doc.kinds.keys) == Set(ExportKind.allCases.map(\.rawValue)), "a table for each kind")
        #expect(doc.owners.map(\.key) == ["name", "user", "exe", "unit", "container", "cmdline"], "\(doc.owners)")
        let fleet = try FleetHistory()
        defer { fleet.remove() }
        for kind in ExportKind.allCases {
            let csv = try export(kind, .csv, fleet)
            let header = String(csv.prefix { $0 != "\r\n" }).split(separator: ",").map(String.init)
            #expect(header == doc.csvColumns(kind), "\(kind) CSV header")

            let json = try JSONDecoder().decode(JSON.self, from: Data(try export(kind, .json, fleet).utf8))
            #expect(json["schema"] == .int(Int64(ExportKind.schema)) && doc.schema == ExportKind.schema, "the schema docs/exports.md states")
            #expect(json["columns"] == .array(doc.jsonColumns(kind).map(JSON.string)), "\(kind) JSON columns")
            guard case .array(let rows) = json["rows"] else { Issue.record("\(kind): no rows array"); continue }
            #expect(!rows.isEmpty, "\(kind): the fixture has rows, so every type is checked")
            for row in rows {
                guard case .object(let fields) = row else { Issue.record("\(kind): a row is not an object"); continue }
                #expect(Set(fields.keys) == Set(doc.jsonColumns(kind)), "\(kind) row keys")
                for (column, type) in doc.kinds[kind.rawValue]! {
                    #expect(Self.matches(fields[column] ?? .null, type, owners: doc.owners), "\(kind).\(column): \(String(describing: fields[column])) is not \(type)")
                }
            }
            let lines = try export(kind, .ndjson, fleet).split(separator: "\n")
            #expect(try lines.map { try JSONDecoder().decode(JSON.self, from: Data($0.utf8)) } == rows, "\(kind): NDJSON rows are JSON's")
        }
    }

    /// What no fixture row has: the worst value each type allows must still fail the check.
    @Test func theTypeCheckRefusesWhatTheDocDoesNotSay() {
        let owners = [(key: "name", column: "owner_names", type: "string")]
        #expect(!Self.matches(.int(1), "boolean", owners: owners) && !Self.matches(.bool(true), "integer", owners: owners))
        #expect(!Self.matches(.null, "string", owners: owners) && Self.matches(.null, "string or null", owners: owners))
        #expect(!Self.matches(.string("yesterday"), "time", owners: owners))
        #expect(!Self.matches(.string("[]"), "owners", owners: owners), "JSON inside a string is not nested JSON")
        #expect(!Self.matches(.array([.object(["name": .string("a"), "pid": .int(1)])]), "owners", owners: owners))
        #expect(Self.matches(.array([.object(["name": .string("a")])]), "owners", owners: owners))
    }
}
