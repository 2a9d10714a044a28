internal import GRDB

/// A record the store reads column by column. The records other modules see are plain
/// structs — no GRDB type leaves the store, so they cannot conform to GRDB's record
/// protocols — and this is their mapping: `init(row:)` here, and each record's writes
/// as explicit SQL beside it (Records+Rows.swift and the file of each record).
protocol RowRecord {
    /// The table the record's rows live in.
    static var databaseTableName: String { get }
    init(row: Row) throws
}

extension RowRecord {
    // The rows walked with a cursor, one row reused, as GRDB's own record fetches do: a
    // row is read only while its cursor lives (the statement is reset when it goes).

    static func fetchAll(_ db: Database, sql: String, arguments: StatementArguments = StatementArguments()) throws -> [Self] {
        try fetchAll(db.makeStatement(sql: sql), arguments: arguments)
    }

    static func fetchAll(_ statement: Statement, arguments: StatementArguments = StatementArguments()) throws -> [Self] {
        var records: [Self] = []
        let rows = try Row.fetchCursor(statement, arguments: arguments)
        while let row = try rows.next() { records.append(try Self(row: row)) }
        return records
    }

    static func fetchOne(_ db: Database, sql: String, arguments: StatementArguments = StatementArguments()) throws -> Self? {
        try fetchOne(db.makeStatement(sql: sql), arguments: arguments)
    }

    static func fetchOne(_ statement: Statement, arguments: StatementArguments = StatementArguments()) throws -> Self? {
        let rows = try Row.fetchCursor(statement, arguments: arguments)
        return try withExtendedLifetime(rows) { try $0.next().map { try Self(row: $0) } }
    }

    /// The rows of the whole table, in `order` (SQL, e.g. `name`).
    static func fetchAll(_ db: Database, orderedBy order: String) throws -> [Self] {
        try fetchAll(db, sql: "SELECT * FROM \(databaseTableName) ORDER BY \(order)")
    }
}

/// A text column that must hold one of an enumeration's values.
func decoded<Value: RawRepresentable>(_ row: Row, _ column: String) throws -> Value where Value.RawValue == String {
    let text: String = row[column]
    guard let value = Value(rawValue: text) else {
        throw StoreError(description: "\(column) \"\(text)\" is not a value this release knows: the database was written by a newer one")
    }
    return value
}
