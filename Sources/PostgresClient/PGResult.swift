import CLibPQ

/// A statement's rows, in text form, read in place from libpq's result (freed with it).
public final class PGResult {
    let pointer: OpaquePointer
    /// Column index by lower-cased name: PostgreSQL folds unquoted identifiers, so
    /// `firstSeen` in SQL is column `firstseen`, and either spelling finds it.
    private let columns: [String: Int32]

    init(_ pointer: OpaquePointer) {
        self.pointer = pointer
        var columns: [String: Int32] = [:]
        for i in 0..<PQnfields(pointer) {
            if let name = PQfname(pointer, i) { columns[String(cString: name).lowercased()] = i }
        }
        self.columns = columns
    }

    deinit { PQclear(pointer) }

    public var count: Int { Int(PQntuples(pointer)) }

    /// How many rows an INSERT, UPDATE or DELETE touched.
    public var affectedRows: Int { Int(String(cString: PQcmdTuples(pointer))) ?? 0 }

    public var rows: [PGRow] { (0..<PQntuples(pointer)).map { PGRow(result: self, index: $0) } }

    public var first: PGRow? { count > 0 ? PGRow(result: self, index: 0) : nil }

    func column(_ name: String) throws(PGRowError) -> Int32 {
        if let index = columns[name] ?? columns[name.lowercased()] { return index }
        throw PGRowError(description: "the result has no column \"\(name)\"")
    }
}

/// One row of a `PGResult`.
public struct PGRow {
    let result: PGResult
    let index: Int32

    /// The text of `column`; nil for NULL.
    public subscript(column: String) -> String? {
        guard let field = try? result.column(column), PQgetisnull(result.pointer, index, field) == 0 else { return nil }
        return String(cString: PQgetvalue(result.pointer, index, field))
    }

    /// The value of `column`, which must not be NULL.
    public func value<T: PGDecodable>(_ column: String) throws(PGRowError) -> T {
        guard let value: T = try value(column) else { throw PGRowError(description: "column \"\(column)\" is NULL") }
        return value
    }

    /// The value of `column`; nil for NULL.
    public func value<T: PGDecodable>(_ column: String) throws(PGRowError) -> T? {
        let field = try result.column(column)
        guard PQgetisnull(result.pointer, index, field) == 0 else { return nil }
        let text = String(cString: PQgetvalue(result.pointer, index, field))
        guard let value = T(pgText: text) else {
            throw PGRowError(description: "column \"\(column)\" holds \"\(text.prefix(40))\", not a \(T.self)")
        }
        return value
    }
}

/// A row that does not hold what the reader expects: a schema this release does not know.
public struct PGRowError: Error, CustomStringConvertible, Sendable {
    public let description: String
}
