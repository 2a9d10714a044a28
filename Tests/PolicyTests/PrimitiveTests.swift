import Testing
import ConfigFile
import PortwardenModel
@testable import Policy

struct PrimitiveTests {
    @Test(arguments: [
        ("rpc*", "rpcbind", true), ("rpc*", "xrpc", false), ("*.service", "ssh.service", true), ("?sh", "ssh", true),
        ("?sh", "sh", false), ("[a-c]at", "bat", true), ("[!a-c]at", "bat", false), ("a\\*", "a*", true), ("a\\*", "ab", false),
        ("*a*b*", "xxaxxbxx", true), ("*a*b", "ab-a", false), ("", "", true), ("*", "", true), ("?", "é", true),
    ] as [(String, String, Bool)])
    func glob(pattern: String, subject: String, expected: Bool) throws {
        #expect(try Glob(pattern).matches(subject) == expected)
    }

    @Test(arguments: [
        ("10.0.0.0/8", "10.255.1.2", true), ("10.0.0.0/8", "11.0.0.1", false), ("10.0.0.0/8", "::ffff:10.0.0.1", true),
        ("fe80::/10", "fe80::1", true), ("fe80::/10", "fec0::1", false), ("::1", "::1", true), ("0.0.0.0/0", "::1", false),
        ("2001:db8::/32", "2001:db8:0:0:1::1", true), ("::/0", "2001:db8::1", true), ("192.168.1.7", "192.168.1.7", true),
    ] as [(String, String, Bool)])
    func network(block: String, address: String, expected: Bool) throws {
        let network = try IPNetwork.parse(block).get()
        #expect(network.contains(try #require(IPAddress(address))) == expected)
    }

    @Test(arguments: ["", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1..2.3", ":::", "1::2::3", "12345::", "1:2:3:4:5:6:7:8:9", "g::1", "::ffff:1.2.3"])
    func notAddresses(text: String) {
        #expect(IPAddress(text) == nil)
    }

    @Test func days() throws {
        #expect(Day(iso: "1970-01-01")?.ordinal == 0)
        #expect(Day(iso: "2024-02-29")?.description == "2024-02-29")
        #expect(Day(iso: "2026-02-29") == nil && Day(iso: "2026-1-01") == nil && Day(iso: "2026-13-01") == nil)
        #expect(Day(iso: "2026-12-31")! + 1 == Day(iso: "2027-01-01")!)
    }

    @Test func suggestions() {
        #expect(nearestName(to: "prot", in: ["port", "protocol"]) == "port")
        #expect(nearestName(to: "sevrity", in: ["severity", "why"]) == "severity")
        #expect(nearestName(to: "zzz", in: ["port"]) == nil)
    }
}
