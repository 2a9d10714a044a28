import Glibc
import PortwardenModel
import ProcFS

extension Host {
    /// The running host's identity. Kernel facts come through `procfs` (so a fixture
    /// tree can stand in); machine-id and os-release from `/etc`.
    public static func read(procfs: ProcFS, etc: String = "/etc") -> Host {
        func line(_ relative: String) -> String? {
            guard let bytes = try? procfs.read(relative, limit: 4096) else { return nil }
            let text = String(decoding: bytes, as: UTF8.self).trimmingWhitespace
            return text.isEmpty ? nil : text
        }
        func etcFile(_ path: String) -> String? {
            guard let bytes = try? ProcFS(root: etc).read(path, limit: 64 << 10) else { return nil }
            return String(decoding: bytes, as: UTF8.self)
        }
        var hostname = line("sys/kernel/hostname")
        if hostname == nil {
            var name = [CChar](repeating: 0, count: 256)
            if gethostname(&name, name.count) == 0 {
                hostname = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            }
        }
        let os = (etcFile("os-release") ?? (try? ProcFS(root: "/usr/lib").read("os-release")).map {
            String(decoding: $0, as: UTF8.self)
        }).flatMap(Self.prettyName)
        return Host(hostname: WireLimits.cut(hostname ?? "unknown"),
                    machineID: WireLimits.cut(etcFile("machine-id")?.trimmingWhitespace.nilIfEmpty),
                    bootID: WireLimits.cut(line("sys/kernel/random/boot_id")),
                    kernel: WireLimits.cut(line("sys/kernel/osrelease")),
                    os: WireLimits.cut(os))
    }

    /// `PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"` → `Debian GNU/Linux 12 (bookworm)`.
    static func prettyName(osRelease: String) -> String? {
        for line in osRelease.split(separator: "\n") where line.hasPrefix("PRETTY_NAME=") {
            var value = line.dropFirst("PRETTY_NAME=".count)
            if value.count >= 2, let q = value.first, q == "\"" || q == "'", value.last == q {
                value = value.dropFirst().dropLast()
            }
            return String(value)
        }
        return nil
    }
}

extension String {
    var trimmingWhitespace: String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(scalars[first...last])
    }

    var nilIfEmpty: String? { isEmpty ? nil : self }
}
