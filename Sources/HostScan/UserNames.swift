import Glibc

/// uid → user name through the system's NSS (files, LDAP, sssd), once per uid.
struct UserNames {
    private var cache: [UInt32: String?] = [:]

    mutating func name(of uid: UInt32) -> String? {
        if let known = cache[uid] { return known }
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 4096)
        let found = getpwuid_r(uid, &entry, &buffer, buffer.count, &result) == 0 && result != nil
        let name = found ? String(cString: entry.pw_name) : nil
        cache[uid] = name
        return name
    }
}
