import ArgumentParser
import CollectorStore
import CommandConventions

extension DB {
    /// `portwarden db copy`
    struct Copy: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move a SQLite history into a PostgreSQL database, verifying every table's row count.",
            discussion: """
                Copies every table (hosts, certificates, enrollment requests and credentials, \
                listener and finding intervals, receipts, refusals, tags, labels, the audit log, \
                policy versions and periods) with their ids, in one PostgreSQL transaction: the \
                target holds all of it or nothing. Stop the collector writing the SQLite file \
                first. A target that already holds a history is refused unless --force, which \
                replaces it. Prints each table's rows read and written; exit 3 when they differ \
                (nothing is kept then).
                """)

        @Option(help: ArgumentHelp("The SQLite history: sqlite:PATH or PATH.", valueName: "sqlite:path"))
        var from: String

        @Option(help: ArgumentHelp("The PostgreSQL database: postgres://… or libpq's key=value (password in ~/.pgpass).",
                                   valueName: "connection"))
        var to: String

        @Flag(help: "Replace whatever history the PostgreSQL database already holds.")
        var force = false

        func validate() throws {
            if PostgresTarget.isPostgres(from) {
                throw ValidationError("--from names a PostgreSQL database: it takes the SQLite history (sqlite:PATH)")
            }
            if !PostgresTarget.isPostgres(to) {
                throw ValidationError("--to \"\(PostgresTarget.redacted(to))\" is not a PostgreSQL connection string: give postgres://HOST/DB "
                                      + "or host=HOST dbname=DB")
            }
        }

        func run() throws {
            let shown = PostgresTarget.redacted(to)
            if shown != to {
                printError("warning: the connection string carries a password (shown as ***): keep it in ~/.pgpass "
                           + "(or the file PGPASSFILE names) and leave it out of the string")
            }
            let path = from.hasPrefix("sqlite:") ? String(from.dropFirst("sqlite:".count)) : from
            let counts: [HistoryCopy.TableCount]
            do {
                counts = try HistoryCopy.copy(from: path, to: to, replacing: force)
            } catch let mismatch as HistoryCopy.Mismatch {
                print(Self.table(mismatch.counts))
                throw CommandFailure(.failed, mismatch.description)
            } catch let refused as HistoryCopy.Refused {
                throw CommandFailure(.failed, refused.description)
            }
            print(Self.table(counts))
            print("copied \(path) into \(shown): every table's rows match")
        }

        /// One line per table: its name, rows read, rows written.
        static func table(_ counts: [HistoryCopy.TableCount]) -> String {
            let width = counts.map(\.table.count).max() ?? 5
            let lines = counts.map { count in
                count.table.padding(toLength: width, withPad: " ", startingAt: 0)
                    + "  \(count.source) → \(count.target)" + (count.source == count.target ? "" : "  MISMATCH")
            }
            return (["table".padding(toLength: width, withPad: " ", startingAt: 0) + "  sqlite → postgresql"] + lines)
                .joined(separator: "\n")
        }
    }
}
