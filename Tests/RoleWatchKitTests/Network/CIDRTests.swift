import RoleWatchKit
import Testing

@Suite struct CIDRTests {
    /// Text, canonical form, and whether host bits were set.
    @Test(arguments: [
        ("10.0.0.0/8", "10.0.0.0/8", false),
        ("10.0.0.1/8", "10.0.0.0/8", true),
        ("0.0.0.0/0", "0.0.0.0/0", false),
        ("203.0.113.7", "203.0.113.7/32", false),
        ("203.0.113.7/32", "203.0.113.7/32", false),
        ("2600:1f18::/33", "2600:1f18::/33", false),
        ("2600:1f18:8000::/33", "2600:1f18:8000::/33", false),
        ("2600:1f18:c000::/33", "2600:1f18:8000::/33", true),
        ("::/0", "::/0", false),
        ("2001:DB8::1", "2001:db8::1/128", false),
        ("2001:db8::1/128", "2001:db8::1/128", false),
        ("::ffff:10.0.0.0/104", "10.0.0.0/8", false),
        ("::ffff:10.1.0.0/104", "10.0.0.0/8", true),
        ("::ffff:0:0/96", "0.0.0.0/0", false),
        ("::ffff:1.2.3.4", "1.2.3.4/32", false),
    ])
    func parses(text: String, canonical: String, hadHostBits: Bool) throws {
        let cidr = try CIDR.parse(text).get()
        #expect(cidr.description == canonical)
        #expect(cidr.hadHostBits == hadHostBits)
        #expect(CIDR(canonical) == cidr)
    }

    /// Text and the exact message the user sees.
    @Test(arguments: [
        ("", "not an IP address: \"\""),
        ("/8", "not an IP address: \"\""),
        ("10.0.0/8", "not an IP address: \"10.0.0\""),
        ("1.2.3.4.5/32", "not an IP address: \"1.2.3.4.5\""),
        ("256.0.0.0/8", "not an IP address: \"256.0.0.0\""),
        (" 10.0.0.0/8", "not an IP address: \" 10.0.0.0\""),
        ("fe80::1%eth0/64", "not an IP address: \"fe80::1%eth0\""),
        ("10.0.0.0/", "prefix length \"\" is not a decimal number without leading zeros"),
        ("10.0.0.0/-1", "prefix length \"-1\" is not a decimal number without leading zeros"),
        ("10.0.0.0/08", "prefix length \"08\" is not a decimal number without leading zeros"),
        ("10.0.0.0/8/9", "prefix length \"8/9\" is not a decimal number without leading zeros"),
        ("10.0.0.0/8 ", "prefix length \"8 \" is not a decimal number without leading zeros"),
        ("3.5.0.0/33", "prefix length 33 is out of range 0-32 for IPv4"),
        ("10.0.0.0/99999999999999999999", "prefix length 99999999999999999999 is out of range 0-32 for IPv4"),
        ("2001:db8::/129", "prefix length 129 is out of range 0-128 for IPv6"),
        (
            "::ffff:10.0.0.0/80",
            "prefix length 80 is out of range 96-128 for an IPv4-mapped IPv6 address; write the IPv4 network instead"
        ),
    ])
    func explainsWhatIsWrong(text: String, message: String) {
        switch CIDR.parse(text) {
        case .success(let cidr): Issue.record("\(text) parsed as \(cidr)")
        case .failure(let error): #expect(error.description == message)
        }
        #expect(CIDR(text) == nil)
    }

    @Test func containsAddressesOfItsFamilyOnly() throws {
        let v4 = try #require(CIDR("192.0.2.0/24"))
        #expect(v4.contains(try address("192.0.2.0")))
        #expect(v4.contains(try address("192.0.2.255")))
        #expect(!v4.contains(try address("192.0.3.0")))
        #expect(!v4.contains(try address("192.0.1.255")))
        #expect(v4.contains(try address("::ffff:192.0.2.9")), "mapped addresses match IPv4 networks")
        #expect(!v4.contains(try address("::c000:209")), "an IPv6 address never matches IPv4")

        let v6 = try #require(CIDR("2600:1f18::/33"))
        #expect(v6.contains(try address("2600:1f18:7fff:ffff::1")))
        #expect(!v6.contains(try address("2600:1f18:8000::")))

        let everything = try #require(CIDR("0.0.0.0/0"))
        #expect(everything.contains(try address("255.255.255.255")))
        #expect(!everything.contains(try address("::")))

        let host = try #require(CIDR("2001:db8::1"))
        #expect(host.contains(try address("2001:db8::1")))
        #expect(!host.contains(try address("2001:db8::2")))
    }

    @Test func hostBitsDoNotChangeIdentity() throws {
        let written = try #require(CIDR("10.9.8.7/8"))
        let clean = try #require(CIDR("10.0.0.0/8"))
        #expect(written == clean)
        #expect(Set([written, clean]).count == 1)
        #expect(written.network == IPAddress("10.0.0.0"))
        #expect(written.prefixLength == 8)
    }
}

/// The address `text` names; fails the test when it is not one.
private func address(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> IPAddress {
    try #require(IPAddress(text), sourceLocation: sourceLocation)
}
