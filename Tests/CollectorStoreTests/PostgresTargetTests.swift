import CollectorStore
import PostgresClient
import Testing

/// Which store a `database` setting names, and that a password in it never shows.
struct PostgresTargetTests {
    @Test(arguments: [
        ("postgres://db1/portwarden", true), ("postgresql://u@db1:5433/pw?sslmode=verify-full", true),
        ("host=db1 dbname=portwarden", true), (" service=portwarden", true),
        ("/var/lib/portwarden/portwarden.sqlite", false), ("portwarden.sqlite", false), ("sqlite:/tmp/a=b.sqlite", false),
        ("./a=b", false), ("", false),
    ])
    func aSettingNamesItsStore(database: String, postgres: Bool) {
        #expect(PostgresTarget.isPostgres(database) == postgres)
    }

    @Test(arguments: [
        ("postgresql://pw:s3cret@db1/x", "postgresql://pw:***@db1/x"),
        ("host=db1 password=s3cret dbname=x", "host=db1 password=*** dbname=x"),
        ("host=db1 password = 's3 \\' cret' dbname=x", "host=db1 password =*** dbname=x"),
        ("postgres://db1/x?sslmode=require&password=s3cret&user=u", "postgres://db1/x?sslmode=require&password=***&user=u"),
        ("host=db1 PASSWORD=s3cret", "host=db1 PASSWORD=***"),
        ("host=passwordless dbname=x", "host=passwordless dbname=x"),
    ])
    func aPasswordNeverShows(database: String, shown: String) {
        #expect(PostgresTarget.redacted(database) == shown)
        #expect(!PostgresTarget.redacted(database).contains("s3"))
    }

    /// However the string spells it — percent-encoded key, tabs around `=`, an `&` or an
    /// escaped space inside a keyword value — the password is hidden, and libpq's own
    /// message about a string it cannot read does not quote it.
    @Test(arguments: ["postgresql://db1/x?pass%77ord=S3cretB", "host=db1 password\t=\tS3cretD dbname=x",
                      "host=db1 password=S3cr&etF dbname=x", "host=db1 password=S3cr\\ etE dbname=x"])
    func aPasswordHoweverSpeltNeverShows(database: String) {
        let shown = PostgresTarget.redacted(database)
        #expect(!shown.contains("S3") && !shown.contains("etE") && !shown.contains("etF"), "\(shown)")
    }

    @Test func libpqsMessageAboutAnUnreadableStringDoesNotQuoteIt() {
        let error = #expect(throws: PGError.self) { try PGConnection("postgresql://u:S3cr%zzC@127.0.0.1:1/x") }
        #expect(error.map { !$0.message.contains("S3cr") } == true, "\(String(describing: error))")
    }
}
