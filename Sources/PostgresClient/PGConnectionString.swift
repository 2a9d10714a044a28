import CLibPQ

/// What a connection string holds, read by libpq's own parser (`PQconninfoParse`): the
/// URI and keyword forms, quoting, escapes and percent-encoding exactly as libpq reads
/// them when it connects.
public enum PGConnectionString {
    /// The password the string carries; nil when it has none, or libpq cannot read it.
    public static func password(in conninfo: String) -> String? {
        var error: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(conninfo, &error) else {
            if let error { PQfreemem(error) }
            return nil
        }
        defer { PQconninfoFree(options) }
        var option = options
        while let keyword = option.pointee.keyword {
            if String(cString: keyword) == "password", let value = option.pointee.val {
                let password = String(cString: value)
                return password.isEmpty ? nil : password
            }
            option += 1
        }
        return nil
    }

    /// Whether libpq can read the string at all.
    public static func isReadable(_ conninfo: String) -> Bool {
        var error: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(conninfo, &error) else {
            if let error { PQfreemem(error) }
            return false
        }
        PQconninfoFree(options)
        return true
    }
}
