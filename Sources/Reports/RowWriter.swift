import PortwardenModel

/// One cell of an export's or report table's rows. Typed, so JSON keeps numbers and
/// booleans, and CSV writes every cell as text (empty for null) — only `.text` and `.list`
/// cells can hold what a host sent, and only they are guarded against formulas.
public enum Cell: Equatable, Sendable {
    case text(String)
    case int(Int64)
    case bool(Bool)
    /// Seconds since the epoch, written as RFC 3339 UTC.
    case time(Int64)
    case null
    /// Strings: a JSON array; in CSV one per line (`CSV.lines`).
    case list([String])
    /// Objects, such as a listener's owners: a JSON array of objects. Exports give CSV flat
    /// columns instead (`ExportOwners`); a CSV cell of objects is their JSON text.
    case objects([[CellField]])

    public static func text(_ value: String?) -> Cell { value.map(Cell.text) ?? .null }
    public static func time(_ value: Int64?) -> Cell { value.map(Cell.time) ?? .null }
    public static func int(_ value: Int64?) -> Cell { value.map(Cell.int) ?? .null }

    var csv: String {
        switch self {
        case .text(let text): Escape.spreadsheet(text)
        case .int(let value): String(value)
        case .bool(let value): value ? "true" : "false"
        case .time(let seconds): Timestamp.rfc3339(seconds)
        case .null: ""
        case .list(let strings): Escape.spreadsheet(CSV.lines(strings))
        case .objects:
            Escape.spreadsheet({ var json = JSONWriter(); json.value(self); return String(decoding: json.buffer, as: UTF8.self) }())
        }
    }
}

/// One key and value of a `.objects` cell.
public struct CellField: Equatable, Sendable {
    public var key: String
    public var value: Cell

    public init(_ key: String, _ value: Cell) {
        self.key = key
        self.value = value
    }
}

extension Cell: WireEncodable {
    /// The cell as a JSON value: text, numbers and booleans typed, times RFC 3339, null.
    public func write(to json: inout JSONWriter) {
        switch self {
        case .text(let text): json.value(text)
        case .int(let value): json.value(value)
        case .bool(let value): json.value(value)
        case .time(let seconds): json.value(Timestamp.rfc3339(seconds))
        case .null: json.null()
        case .list(let strings): json.value(strings)
        case .objects(let objects):
            json.beginArray()
            for fields in objects {
                json.beginObject()
                for field in fields { json.key(field.key); json.value(field.value) }
                json.endObject()
            }
            json.endArray()
        }
    }
}

public enum DataFormat: String, CaseIterable, Sendable {
    case csv, json, ndjson
}

/// Streams rows to an output in one format, so an export of millions of intervals never
/// sits in memory. JSON is `{"schema": N, <header fields>, "columns": [...], "rows": [...]}`;
/// NDJSON one row object per line; CSV a header record, then one record per row.
public struct RowWriter {
    let format: DataFormat
    let columns: [String]
    let output: ReportOutput
    private var json: JSONWriter

    public init(format: DataFormat, schema: Int, columns: [String], header: [(String, String)], output: ReportOutput) {
        self.format = format
        self.columns = columns
        self.output = output
        json = JSONWriter { output.write($0) }
        switch format {
        case .csv:
            output.write(CSV.record(columns))
        case .json:
            json.beginObject()
            json.key("schema"); json.value(schema)
            for (key, value) in header { json.key(key); json.value(value) }
            json.key("columns"); json.value(columns)
            json.key("rows"); json.beginArray()
        case .ndjson:
            break
        }
    }

    public mutating func row(_ cells: [Cell]) {
        switch format {
        case .csv:
            output.write(CSV.record(cells))
        case .json, .ndjson:
            json.beginObject()
            for (column, cell) in zip(columns, cells) {
                json.key(column)
                json.value(cell)
            }
            json.endObject()
            if format == .ndjson { json.endLine() }
        }
    }

    /// Closes the document and hands the last bytes to the output.
    public mutating func finish() {
        if format == .json {
            json.endArray()
            json.endObject()
            json.endLine()
        }
        json.flush()
    }
}
