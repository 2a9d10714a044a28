import Testing
@testable import HostScan

/// Each default rule, a pattern from agent.yaml, and the arguments that must stay as they are.
struct RedactionTests {
    let redaction = Redaction()
    let r = Redaction.marker

    func redacted(_ arguments: [String], _ redaction: Redaction? = nil) -> [String] {
        (redaction ?? self.redaction).redact(arguments: arguments)
    }

    @Test(arguments: [
        (["app", "--password=S3cret"], ["app", "--password=<redacted>"]),
        (["app", "--db-password=S3cret", "--port=5432"], ["app", "--db-password=<redacted>", "--port=5432"]),
        (["app", "--passwd=x"], ["app", "--passwd=<redacted>"]),
        (["app", "--api-key=abc123"], ["app", "--api-key=<redacted>"]),
        (["app", "--apikey", "abc123"], ["app", "--apikey", "<redacted>"]),
        (["app", "--api_key", "abc123", "--verbose"], ["app", "--api_key", "<redacted>", "--verbose"]),
        (["app", "--token", "ghp_abc"], ["app", "--token", "<redacted>"]),
        (["app", "-token", "ghp_abc"], ["app", "-token", "<redacted>"]),
        (["app", "--client-secret=s"], ["app", "--client-secret=<redacted>"]),
        (["app", "--aws-access-key", "AKIA1"], ["app", "--aws-access-key", "<redacted>"]),
        (["app", "--private-key=/k"], ["app", "--private-key=<redacted>"]),
        (["app", "--credentials", "u:p"], ["app", "--credentials", "<redacted>"]),
        (["app", "--passphrase=x y"], ["app", "--passphrase=<redacted>"]),
        (["env", "PGPASSWORD=S3cret", "psql"], ["env", "PGPASSWORD=<redacted>", "psql"]),
        (["env", "GITHUB_TOKEN=ghp_x", "VAULT_SECRET=v", "MYSQL_PWD=p"],
         ["env", "GITHUB_TOKEN=<redacted>", "VAULT_SECRET=<redacted>", "MYSQL_PWD=<redacted>"]),
        (["java", "-Ddb.password=S3cret", "-jar", "a.jar"], ["java", "-Ddb.password=<redacted>", "-jar", "a.jar"]),
        (["curl", "-H", "Authorization: Bearer eyJ0"], ["curl", "-H", "Authorization: <redacted>"]),
        (["openssl", "s_server", "-passin", "pass:S3cret"], ["openssl", "s_server", "-passin", "<redacted>"]),
        (["app", "pass:S3cret"], ["app", "pass:<redacted>"]),
    ])
    func namedValuesAreRedacted(_ input: [String], _ expected: [String]) {
        #expect(redacted(input) == expected)
    }

    @Test func mysqlsAttachedPasswordIsRedactedForMysqlOnly() {
        #expect(redacted(["/usr/bin/mysql", "-uroot", "-pS3cret", "-h", "db"]) == ["/usr/bin/mysql", "-uroot", "-p\(r)", "-h", "db"])
        #expect(redacted(["mysqldump", "-pS3cret"]) == ["mysqldump", "-p\(r)"])
        #expect(redacted(["mariadb", "-p", "S3cret"]) == ["mariadb", "-p", r])
        #expect(redacted(["sshpass", "-pS3cret", "ssh", "host"]) == ["sshpass", "-p\(r)", "ssh", "host"])
        #expect(redacted(["redis-cli", "-a", "S3cret"]) == ["redis-cli", "-a", r])
        // Elsewhere -p is a port, a prefix, a pid: left alone.
        #expect(redacted(["ssh", "-p22", "-p", "22"]) == ["ssh", "-p22", "-p", "22"])
        #expect(redacted(["nginx", "-p", "/srv/nginx"]) == ["nginx", "-p", "/srv/nginx"])
        #expect(redacted(["mysql", "--port=3306", "-P3306"]) == ["mysql", "--port=3306", "-P3306"])
    }

    /// What real daemons and tools put on their command lines, each as an attacker reading
    /// `ps` (or a report) would find it.
    @Test(arguments: [
        (["redis-server", "--requirepass", "S3cret", "--masterauth", "M4ster"],
         ["redis-server", "--requirepass", "<redacted>", "--masterauth", "<redacted>"]),
        (["keytool", "-list", "-storepass", "S3cret", "-keypass", "K3y"], ["keytool", "-list", "-storepass", "<redacted>", "-keypass", "<redacted>"]),
        (["app", "--db-pass", "S3cret", "--DB_PASS=x"], ["app", "--db-pass", "<redacted>", "--DB_PASS=<redacted>"]),
        (["app", "--pw", "S3cret", "--admin-pw=x"], ["app", "--pw", "<redacted>", "--admin-pw=<redacted>"]),
        (["app", "--psk=S3cret", "--wifi-psk", "x"], ["app", "--psk=<redacted>", "--wifi-psk", "<redacted>"]),
        (["app", "--password-file=/run/s", "--passwd", "x"], ["app", "--password-file=<redacted>", "--passwd", "<redacted>"]),
        (["curl", "-u", "admin:S3cret", "https://h"], ["curl", "-u", "admin:<redacted>", "https://h"]),
        (["curl", "-uadmin:S3cret", "--user=admin:S3cret", "--proxy-user", "p:S3cret"],
         ["curl", "-uadmin:<redacted>", "--user=admin:<redacted>", "--proxy-user", "p:<redacted>"]),
        (["app", "password:", "S3cret", "--port", "80"], ["app", "password:", "<redacted>", "--port", "80"]),
        (["curl", "-H", "Cookie: session=abc"], ["curl", "-H", "Cookie: <redacted>"]),
        (["app", "--json", "{'password': 'S3cret', 'n': 1}"], ["app", "--json", "{'password': '<redacted>', 'n': 1}"]),
        (["node", "-e", "connect({user: 'a', password: S3cret})"], ["node", "-e", "connect({user: 'a', password: <redacted>})"]),
        (["sh", "-c", "curl -H \"Authorization: Bearer eyJ0\" https://h"], ["sh", "-c", "curl -H \"Authorization: <redacted>\" https://h"]),
        (["app", "--headers", "Accept: x, Authorization: Bearer abc"], ["app", "--headers", "Accept: x, Authorization: <redacted>"]),
        (["wget", "--header=Authorization: Bearer x", "https://h"], ["wget", "--header=Authorization: <redacted>", "https://h"]),
        (["app", "--header=Cookie: a=1; b=2"], ["app", "--header=Cookie: <redacted>"]),
        (["curl", "-u", "sk_live_abc:", "https://h"], ["curl", "-u", "<redacted>:", "https://h"]),
        (["curl", "-fsSLu", "admin:S3cret", "https://h"], ["curl", "-fsSLu", "admin:<redacted>", "https://h"]),
        (["tailscale", "up", "--authkey", "tskey-abc", "--auth-key=tskey-def"], ["tailscale", "up", "--authkey", "<redacted>", "--auth-key=<redacted>"]),
        (["app", "--conn", "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=S3cret;EndpointSuffix=x"],
         ["app", "--conn", "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=<redacted>;EndpointSuffix=x"]),
        (["app", "--master-key", "k", "--oauth2-bearer", "t"], ["app", "--master-key", "<redacted>", "--oauth2-bearer", "<redacted>"]),
        // `*pass` takes every name ending in pass: hiding a value that was not secret
        // costs less than sending one that was.
        (["app", "--compass", "north"], ["app", "--compass", "<redacted>"]),
    ])
    func daemonsAndToolsLoseTheirSecrets(_ input: [String], _ expected: [String]) {
        #expect(redacted(input) == expected)
    }

    /// Near misses: names that only look like a secret's, and options that hold one only
    /// for other programs.
    @Test(arguments: [
        ["app", "--bypass-cache", "--passive", "--passes", "3"],
        ["curl", "-u", "admin", "https://h"],
        ["app", "-u", "admin:notasecret"],
        ["docker", "run", "-v", "/etc/secret:/x", "img"],
        ["curl", "-sS", "-o", "/tmp/x", "https://h"],
        ["curl", "-u", ":", "https://h"],
    ])
    func nearMissesStay(_ arguments: [String]) {
        #expect(redacted(arguments) == arguments)
    }

    @Test func urlsKeepTheUserAndLoseThePassword() {
        #expect(redacted(["app", "--db", "postgres://app:S3cret@db:5432/x"]) == ["app", "--db", "postgres://app:\(r)@db:5432/x"])
        #expect(redacted(["app", "https://user:p@ss@host/path"]) == ["app", "https://user:\(r)@host/path"])
        #expect(redacted(["git", "clone", "https://ghp_token@github.com/o/r"]) == ["git", "clone", "https://\(r)@github.com/o/r"])
        #expect(redacted(["app", "--upstream=http://u:pw@proxy:3128"]) == ["app", "--upstream=http://u:\(r)@proxy:3128"])
        #expect(redacted(["app", "jdbc:mysql://db/x?user=a&password=S3cret&ssl=true"])
            == ["app", "jdbc:mysql://db/x?user=a&password=\(r)&ssl=true"])
        // A value runs to a space, `&`, `;` or `,`: the fragment goes with it.
        #expect(redacted(["app", "https://host/cb?access_token=abc#x"]) == ["app", "https://host/cb?access_token=\(r)"])
    }

    @Test func connectionStringsAndJSONLoseOnlyTheSecret() {
        #expect(redacted(["psql", "host=db user=app password=S3cret port=5432"])
            == ["psql", "host=db user=app password=\(r) port=5432"])
        #expect(redacted(["psql", "host=db password='a b c' port=5432"]) == ["psql", "host=db password='\(r)' port=5432"])
        #expect(redacted(["sshfs", "-o", "user=a,password=S3cret,port=22"]) == ["sshfs", "-o", "user=a,password=\(r),port=22"])
        #expect(redacted(["app", "--config-json", #"{"user":"a","api_key": "S3cret","n":1}"#])
            == ["app", "--config-json", #"{"user":"a","api_key": "\#(r)","n":1}"#])
    }

    @Test(arguments: [
        ["nginx: master process /usr/sbin/nginx -g daemon on;"],
        ["/usr/sbin/sshd", "-D", "-p", "22"],
        ["postgres", "-D", "/var/lib/postgresql/15/main", "-c", "config_file=/etc/postgresql/15/main/postgresql.conf"],
        ["java", "-Xmx2g", "-Dfile.encoding=UTF-8", "-cp", "/opt/a.jar:/opt/b.jar", "com.example.Main"],
        ["python3", "-m", "http.server", "--bind", "127.0.0.1", "8000"],
        ["app", "--url=https://example.com/path?q=1", "--user=admin", "--port=8080"],
        ["app", "user@example.com", "a=b", "--password=", "ssh://host/", "http://[::1]:80/"],
        ["app", "--token"],
    ])
    func otherArgumentsAreUntouched(_ arguments: [String]) {
        #expect(redacted(arguments) == arguments)
    }

    @Test func patternsFromTheConfigAddToTheDefaults() throws {
        let config = try Redaction(adding: ["--db-seed", "*_LICENSE", "-k", "app.seed"])
        #expect(redacted(["app", "--db-seed", "x", "--DB_SEED=y", "ACME_LICENSE=z", "-k", "w", "-Dapp.seed=v"], config)
            == ["app", "--db-seed", r, "--DB_SEED=\(r)", "ACME_LICENSE=\(r)", "-k", r, "-Dapp.seed=\(r)"])
        #expect(redacted(["app", "--password=p"], config) == ["app", "--password=\(r)"], "defaults stay")
        // Without the config's patterns none of these is a secret.
        #expect(redacted(["app", "--db-seed", "x", "ACME_LICENSE=z", "-k", "w"]) == ["app", "--db-seed", "x", "ACME_LICENSE=z", "-k", "w"])
    }

    @Test(arguments: ["", "*", "-", "pass word", "(?i)token", "[a-z]+", "tok$", "é"])
    func aPatternThatIsNotANameIsRefused(_ pattern: String) {
        #expect(throws: RedactionPatternError(pattern: pattern)) { try Redaction(adding: [pattern]) }
    }

    @Test func textOutsideArgumentsIsRedactedToo() {
        #expect(redaction.redact("PGPASSWORD=x") == "PGPASSWORD=\(r)")
        #expect(redaction.redact("skipped /proc/9/status:1: expected \"Name:\": \"db password=S3cret\"")
            == "skipped /proc/9/status:1: expected \"Name:\": \"db password=\(r)")
        #expect(redaction.redact("/opt/app/bin/server") == "/opt/app/bin/server")
    }

    /// A hostile command line costs a scan no more than a few milliseconds per process.
    @Test func hostileTextStaysLinear() {
        let start = ContinuousClock.now
        let hostile = [
            "x " + String(repeating: "password=", count: 455),
            String(repeating: "a://", count: 1_024),
            String(repeating: "\"password\":", count: 372),
            String(repeating: "x", count: 4_000) + "=",
            String(repeating: "password='", count: 409),
        ]
        for text in hostile {
            _ = redaction.redact(arguments: ["app", text])
        }
        #expect(ContinuousClock.now - start < .milliseconds(500))
    }
}
