import RoleWatchKit
import Testing

@Suite struct IPAddressTests {
    /// Text that must parse, and its canonical form (RFC 5952 for IPv6).
    @Test(arguments: [
        ("0.0.0.0", "0.0.0.0"),
        ("1.2.3.4", "1.2.3.4"),
        ("255.255.255.255", "255.255.255.255"),
        ("10.0.0.1", "10.0.0.1"),
        ("::", "::"),
        ("::1", "::1"),
        ("1::", "1::"),
        ("2001:db8::1", "2001:db8::1"),
        ("2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
        ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),
        ("2001:0:0:1:0:0:0:1", "2001:0:0:1::1"),
        ("2001:db8::0:1", "2001:db8::1"),
        ("1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"),
        ("::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"),
        ("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"),
        ("FE80::ABCD:EF01", "fe80::abcd:ef01"),
        ("2600:1f18::", "2600:1f18::"),
        ("0:0:0:0:0:0:0:0", "::"),
        ("::0.0.0.1", "::1"),
        ("64:ff9b::1.2.3.4", "64:ff9b::102:304"),
        ("1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304"),
        ("::ffff:1.2.3.4", "1.2.3.4"),
        ("::FFFF:1.2.3.4", "1.2.3.4"),
        ("::ffff:102:304", "1.2.3.4"),
        ("0:0:0:0:0:ffff:c000:0201", "192.0.2.1"),
        ("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
    ])
    func parsesAndFormatsCanonically(text: String, canonical: String) throws {
        let address = try #require(IPAddress(text))
        #expect(address.description == canonical)
        #expect(IPAddress(canonical) == address, "the canonical form reads back as the same address")
    }

    /// IPv4 addresses are written digit by digit: every octet of one, two and three digits, at
    /// every place, as the decimal numbers they are.
    @Test func ipv4AddressesAreWrittenAsTheirFourNumbers() throws {
        let octets = [0, 1, 9, 10, 42, 99, 100, 109, 199, 200, 255]
        for a in octets {
            for b in octets {
                for c in octets {
                    for d in octets {
                        let text = "\(a).\(b).\(c).\(d)"
                        let address = try #require(IPAddress(text))
                        if address.description != text { Issue.record("\(text) written as \(address.description)") }
                    }
                }
            }
        }
    }

    @Test(arguments: [
        "", " ", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.256", "1.2.3.-1", "1..2.3", ".1.2.3", "1.2.3.4.",
        "01.2.3.4", "1.2.3.04", "1.2.3.1234", " 1.2.3.4", "1.2.3.4 ", "1.2.3.4/32", "1.2.3.a", "0x1.2.3.4",
        ":", ":::", "1::2::3", "12345::", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7:8::", "::1:2:3:4:5:6:7:8",
        "1:2:3:4:5:6:7", ":1::", "1:", "1::2:", ":1:2:3:4:5:6:7:8", "g::1", "fe80::1%eth0", "fe80::1%1",
        "2001:db8::/32", "::ffff:1.2.3", "::ffff:01.2.3.4", "::1.2.3.4:5", "1.2.3.4::", "1:2:3:4:5:6:7:1.2.3.4",
        "::ffff:256.1.1.1", "[::1]", "1:2:3:4:5:6:7:8:", "0000000000000000000000000000000000000000000000001",
    ])
    func rejects(text: String) {
        #expect(IPAddress(text) == nil)
    }

    @Test func mappedIPv6IsTheIPv4Address() throws {
        let mapped = try #require(IPAddress("::ffff:10.1.2.3"))
        #expect(mapped == IPAddress("10.1.2.3"))
        #expect(mapped.family == .ipv4)
        #expect(IPAddress(ipv6High: 0, low: 0x0000_ffff_0a01_0203) == mapped)
        #expect(IPAddress("::10.1.2.3")?.family == .ipv6, "IPv4-compatible (not mapped) stays IPv6")
    }

    @Test func readsSubstringsAndBytes() {
        let line = "ip=203.0.113.9;"
        let start = line.index(line.startIndex, offsetBy: 3)
        let end = line.index(before: line.endIndex)
        #expect(IPAddress(line[start..<end]) == IPAddress(ipv4: 0xcb00_7109))
        #expect(IPAddress(utf8: Array("2001:db8::7".utf8)[...]) == IPAddress(ipv6High: 0x2001_0db8_0000_0000, low: 7))
        #expect(IPAddress(utf8: "2001:db8::7".utf8.dropLast()) == IPAddress(ipv6High: 0x2001_0db8_0000_0000, low: 0))
    }

    @Test func ordersIPv4BeforeIPv6ThenByValue() throws {
        let texts = ["::1", "10.0.0.2", "2001:db8::", "9.255.255.255", "10.0.0.10", "::"]
        let sorted = try texts.map { try #require(IPAddress($0)) }.sorted().map(\.description)
        #expect(sorted == ["9.255.255.255", "10.0.0.2", "10.0.0.10", "::", "::1", "2001:db8::"])
    }

    @Test func networkLocationMasksToTheFamilysPrefix() throws {
        let v4 = try #require(IPAddress("198.51.100.77"))
        let v6 = try #require(IPAddress("2001:db8:1234:5678::1"))
        #expect(v4.network(ipv4PrefixLength: 24, ipv6PrefixLength: 48).description == "198.51.100.0/24")
        #expect(v6.network(ipv4PrefixLength: 24, ipv6PrefixLength: 48).description == "2001:db8:1234::/48")
        #expect(v4.network(prefixLength: 0).description == "0.0.0.0/0")
        #expect(v4.network(prefixLength: 32).description == "198.51.100.77/32")
        #expect(v6.network(prefixLength: 128).description == "2001:db8:1234:5678::1/128")
        #expect(v4.network(prefixLength: 24) == CIDR("198.51.100.0/24"))
    }
}
