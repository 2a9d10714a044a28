@testable import CollectorServer
import NIOCore
import PortwardenModel
import Testing

/// The caps fitted to the descriptor limit, and the address a connection counts under.
struct ConnectionLimitsTests {
    @Test func theDefaultsStandWhenTheDescriptorsAllowThem() {
        // systemd's default hard limit, which `serve` raises the soft limit to.
        let (limits, why) = ConnectionLimits.defaults.fitted(descriptorLimit: 524_288, inUse: 20)
        #expect(limits == ConnectionLimits(total: 10_000, perAddress: 1_000))
        #expect(why == "connections: at most 10000 open, 1000 from one address")
    }

    @Test func aLowDescriptorLimitLowersBothCapsAndSaysWhy() {
        let (limits, why) = ConnectionLimits.defaults.fitted(descriptorLimit: 1_024, inUse: 20)
        #expect(limits.total == 1_024 - 20 - ConnectionLimits.descriptorHeadroom)
        #expect(limits.perAddress == 1_000 * limits.total / 10_000, "lowered in proportion: \(limits.perAddress)")
        #expect(why.hasPrefix("max_connections 10000 lowered to 940 by the descriptor limit 1024 (20 open at start, 64 kept"),
                "\(why)")
        #expect(why.contains("max_connections_per_address 1000 lowered to 94"), "\(why)")
        #expect(why.contains("LimitNOFILE"), "says what to do")
    }

    @Test func theCapsNeverExceedTheDescriptorsWhateverIsAsked() {
        for limit in [1, 64, 100, 256, 1_024, 4_096, 65_536] {
            for inUse in [3, 20, 200] {
                for asked in [ConnectionLimits(total: 1, perAddress: 1), .defaults,
                              ConnectionLimits(total: 1_000_000, perAddress: 1_000_000),
                              ConnectionLimits(total: 10, perAddress: 50)] {
                    let (limits, _) = asked.fitted(descriptorLimit: limit, inUse: inUse)
                    #expect(limits.total >= 1 && limits.perAddress >= 1, "\(asked) in \(limit)")
                    #expect(limits.total <= max(1, limit - inUse - ConnectionLimits.descriptorHeadroom), "\(asked) in \(limit)")
                    #expect(limits.total <= asked.total && limits.perAddress <= min(asked.perAddress, limits.total),
                            "\(asked) in \(limit): \(limits)")
                }
            }
        }
        // One NAT address in front of the whole fleet: per address = total stays so.
        let (shared, _) = ConnectionLimits(total: 5_000, perAddress: 5_000).fitted(descriptorLimit: 1_024, inUse: 24)
        #expect(shared == ConnectionLimits(total: 936, perAddress: 936))
    }

    @Test func aConnectionCountsUnderItsIPv4AddressOrItsIPv6Slash64() throws {
        func source(_ text: String) throws -> IPAddress? {
            IPAddress(try SocketAddress(ipAddress: text, port: 40_000))?.source
        }
        #expect(try source("192.0.2.7") == IPAddress("192.0.2.7"))
        #expect(try source("::ffff:192.0.2.7") == IPAddress("192.0.2.7"), "a dual-stack listener's IPv4 peer")
        #expect(try source("2001:db8:1:2:aaaa::1") == IPAddress("2001:db8:1:2::"))
        #expect(try source("2001:db8:1:2:bbbb::2") == source("2001:db8:1:2:aaaa::1"), "one /64, one count")
        #expect(try source("2001:db8:1:3::1") != source("2001:db8:1:2::1"))
        #expect(IPAddress(nil) == nil)
    }
}
