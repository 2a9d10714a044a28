import ArgumentParser
import CollectorStore
import Foundation
import PortwardenModel

/// Who runs an admin command, as the audit names them: the user sudo ran it for, else
/// the account of the uid, with the uid.
enum Operator {
    static var current: String {
        let uid = getuid()
        if let sudo = ProcessInfo.processInfo.environment["SUDO_USER"], !sudo.isEmpty {
            return "operator \(sudo) (sudo, uid \(uid))"
        }
        let name = getpwuid(uid).map { String(cString: $0.pointee.pw_name) } ?? "?"
        return "operator \(name) (uid \(uid))"
    }
}

/// A HOST argument in the one spelling the collector stores (`HOST-X.` is host-x). A
/// name that has no normal form is taken as typed only when an older release stored it
/// so (e.g. `localhost`), so that it can still be revoked or tagged.
func hostArgument(_ typed: String, _ database: any HistoryStore) throws -> String {
    switch HostName.normalized(typed) {
    case .success(let name): return name
    case .failure(let error):
        if try database.knowsName(typed) { return typed }
        throw ValidationError("\(error)")
    }
}

/// Now, as the store counts time.
var nowSeconds: Int64 { Int64(Date().timeIntervalSince1970) }
