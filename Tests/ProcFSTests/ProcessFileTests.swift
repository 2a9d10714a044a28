import Testing
import PortwardenModel
@testable import ProcFS

struct ProcessFileTests {
    @Test func statusNameAndRealUid() throws {
        let text = "Name:\tweird\\nname\nUmask:\t0022\nUid:\t1000\t0\t0\t0\nGid:\t0\t0\t0\t0\n"
        let status = try ProcessStatus.parse(Array(text.utf8), file: "s").get()
        #expect(status == ProcessStatus(name: "weird\nname", uid: 1000))
    }

    @Test func brokenStatusNamesTheLine() {
        let result = ProcessStatus.parse(Array("Name:\tx\nUid:\tnope\n".utf8), file: "/proc/9/status")
        guard case .failure(let error) = result else { Issue.record("parsed"); return }
        #expect(error.line == 2)
        #expect(error.file == "/proc/9/status")
    }

    @Test func cmdlineKeepsEmptyArgumentsAndDropsTheLastNul() {
        #expect(ProcessCmdline.parse(Array("a\0\0b c\0".utf8)) == ["a", "", "b c"])
        #expect(ProcessCmdline.parse([]) == [])
        #expect(ProcessCmdline.parse(Array("nginx: master process".utf8)) == ["nginx: master process"])
    }

    /// Read to a bound and one byte more: the argument the read ended inside is left out
    /// whole, since redaction can only judge whole arguments.
    @Test func aCommandLineReadToItsBoundKeepsWholeArgumentsOnly() {
        let limit = 16
        #expect(ProcessCmdline.parse(prefix: Array("app\0--port\0".utf8), limit: limit)
            == ProcessCmdline(arguments: ["app", "--port"], isCut: false))
        // Exactly the bound: all of it.
        #expect(ProcessCmdline.parse(prefix: Array("app\0--port\0abcd\0".utf8), limit: limit)
            == ProcessCmdline(arguments: ["app", "--port", "abcd"], isCut: false))
        // One more byte, a NUL: every argument whole, but the file went on.
        #expect(ProcessCmdline.parse(prefix: Array("app\0--port\0abcde\0".utf8), limit: limit)
            == ProcessCmdline(arguments: ["app", "--port", "abcde"], isCut: true))
        // The read ended inside "--password=S3cret…": none of it is kept.
        #expect(ProcessCmdline.parse(prefix: Array("app\0--password=S3".utf8), limit: limit)
            == ProcessCmdline(arguments: ["app"], isCut: true))
        #expect(ProcessCmdline.parse(prefix: Array("nginx: worker proc".utf8), limit: limit)
            == ProcessCmdline(arguments: [], isCut: true))
    }

    static let docker = String(repeating: "ab", count: 32)

    @Test(arguments: [
        ("0::/system.slice/ssh.service\n", "ssh.service", nil),
        ("0::/user.slice/user-1000.slice/user@1000.service/app.slice/app-foo.scope\n", "app-foo.scope", nil),
        ("0::/system.slice/docker-\(docker).scope\n", "docker-\(docker).scope", "docker://\(docker)"),
        ("0::/system.slice/containerd.service/kubepods-besteffort-pod1.slice:cri-containerd:\(docker)\n", "containerd.service", nil),
        ("0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod12.slice/cri-containerd-\(docker).scope\n", "cri-containerd-\(docker).scope", "containerd://\(docker)"),
        ("0::/machine.slice/libpod-\(docker).scope/container\n", "libpod-\(docker).scope", "podman://\(docker)"),
        ("0::/kubepods.slice/crio-\(docker).scope\n", "crio-\(docker).scope", "cri-o://\(docker)"),
        ("12:pids:/docker/\(docker)\n1:name=systemd:/docker/\(docker)\n0::/\n", nil, "docker://\(docker)"),
        ("0::/kubepods/burstable/pod6f1a/\(docker)\n", nil, "kubernetes://\(docker)"),
        ("0::/lxc.payload.web1/init.scope\n", "init.scope", "lxc://web1"),
        ("0::/init.scope\n", "init.scope", nil),
        ("0::/\n", nil, nil),
    ] as [(String, String?, String?)])
    func cgroupNamesUnitAndContainer(text: String, unit: String?, container: String?) throws {
        let cgroup = try ProcessCgroup.parse(Array(text.utf8), file: "c").get()
        #expect(cgroup.unit == unit)
        #expect(cgroup.container == container)
    }

    @Test func cgroupV1PrefersTheSystemdHierarchy() throws {
        let text = "4:memory:/user.slice\n1:name=systemd:/system.slice/cron.service\n"
        #expect(try ProcessCgroup.parse(Array(text.utf8), file: "c").get().path == "/system.slice/cron.service")
    }

    @Test func brokenCgroupNamesTheLine() {
        guard case .failure(let error) = ProcessCgroup.parse(Array("0::/ok\ngarbage\n".utf8), file: "c") else {
            Issue.record("parsed")
            return
        }
        #expect(error.line == 2)
    }

    @Test(arguments: [
        (IPAddress.v4(10, 1, 2, 3), "10.1.2.3"),
        (.v6([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1]), "2001:db8::1:0:0:1"),
        (.v6([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0]), "2001:db8:0:1::100"),
        (.v6([0, 1, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1]), "1:0:1:1:1:1:1:1"),
        (.v6([UInt8](repeating: 0, count: 16)), "::"),
        (.v6([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1]), "::ffff:192.0.2.1"),
    ] as [(IPAddress, String)])
    func addressesPrintAsRFC5952(address: IPAddress, text: String) {
        #expect(address.description == text)
    }
}
