import Testing
import PortwardenModel

/// One spelling per host: look-alikes fold together, and what cannot name a host is refused with why.
struct HostNameTests {
    @Test(arguments: [
        ("web-01", "web-01"), ("HOST-X", "host-x"), ("host-x.", "host-x"), ("Db.Example.COM.", "db.example.com"),
        ("a1", "a1"), ("1a", "1a"), ("x.y-z.example", "x.y-z.example"),
    ])
    func namesFoldToOneSpelling(text: String, name: String) throws {
        #expect(try HostName.normalized(text).get() == name)
    }

    @Test(arguments: [
        ("", "empty"), (".", "empty"), ("a..b", "empty label"), (".a", "empty label"), ("host-x..", "empty label"),
        ("-a", "begin or end"), ("a-", "begin or end"), ("a_b", "letters"), ("a b", "letters"), ("a\nb", "letters"),
        ("héte", "letters"), ("localhost", "localhost"), ("LOCALHOST.", "localhost"), ("x.localhost", "localhost"),
        ("10.0.0.1", "address"), ("123", "address"), ("a.123", "address"), ("::1", "letters"),
        (String(repeating: "a", count: 64), "longer than 63"),
        ((0..<64).map { _ in "abc" }.joined(separator: "."), "longer than 253"),
    ])
    func whatCannotNameAHostIsRefusedWithWhy(text: String, reason: String) {
        guard case .failure(let error) = HostName.normalized(text) else {
            Issue.record("\(text) was accepted")
            return
        }
        #expect(error.description.contains(reason), "\(error)")
    }

    @Test(arguments: [
        ("0.0.0.0", "0.0.0.0", AddressFamily.ipv4, ExposureScope.any), ("127.0.0.53", "127.0.0.53", .ipv4, .loopback),
        ("::", "::", .ipv6, .any), ("::1", "::1", .ipv6, .loopback), ("::ffff:127.0.0.1", "::ffff:127.0.0.1", .ipv6, .loopback),
        ("2001:DB8:0:0:0:0:0:1", "2001:db8::1", .ipv6, .specific), ("10.1.2.3", "10.1.2.3", .ipv4, .specific),
    ])
    func addressesParseToTheirCanonicalTextFamilyAndScope(text: String, canonical: String, family: AddressFamily,
                                                          scope: ExposureScope) throws {
        let address = try #require(IPAddress(text))
        #expect(address.description == canonical && address.family == family && ExposureScope(boundTo: address) == scope)
    }

    @Test(arguments: ["", "<b>0.0.0.0</b>", "=1+2", "1.2.3", "1.2.3.256", "1::2::3", "fe80::1%eth0", "10.0.0.0/8", " ::1"])
    func whatIsNotAnAddressDoesNotParse(text: String) {
        #expect(IPAddress(text) == nil)
    }
}
