import Foundation
import PortwardenModel

/// Every listing command's `--format json`: one object, `{"schema": 1, "<rows>": [...]}`,
/// like the reports and exports. A key added keeps the schema; one renamed, removed or
/// changed in meaning bumps it, so a script checks `schema` before it reads the rows.
enum Listing {
    static let schema = 1

    /// Rows that are plain `Encodable` values: keys in snake_case, sorted.
    static func print(_ name: String, rows: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        Swift.print(String(decoding: try encoder.encode(Envelope(name: name, rows: rows)), as: UTF8.self))
    }

    /// Rows in the wire format's writer (findings, replayed intervals).
    static func print<Item: WireEncodable>(_ name: String, _ items: [Item]) {
        print(name) { $0.value(items) }
    }

    /// Rows the command writes itself.
    static func print(_ name: String, rows: (inout JSONWriter) -> Void) {
        var w = JSONWriter()
        w.beginObject()
        w.key("schema"); w.value(schema)
        w.key(name)
        rows(&w)
        w.endObject()
        Swift.print(String(decoding: w.buffer, as: UTF8.self))
    }

    private struct Envelope<Rows: Encodable>: Encodable {
        let name: String
        let rows: Rows

        struct Key: CodingKey {
            let stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Key.self)
            try container.encode(Listing.schema, forKey: Key(stringValue: "schema"))
            try container.encode(rows, forKey: Key(stringValue: name))
        }
    }
}
