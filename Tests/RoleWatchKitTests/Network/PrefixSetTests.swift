import RoleWatchKit
import Testing

@Suite struct PrefixSetTests {
    private func set(_ entries: [(String, String)]) throws -> PrefixSet<String> {
        PrefixSet(try entries.map { (try #require(CIDR($0.0)), $0.1) })
    }

    private func match(_ set: PrefixSet<String>, _ text: String) throws -> String? {
        set.longestMatch(try address(text)).map { "\($0.prefix) \($0.value)" }
    }

    @Test func longestOfOverlappingPrefixesWins() throws {
        let nested = try set([
            ("10.1.2.0/24", "c"), ("10.0.0.0/8", "a"), ("10.1.2.3/32", "d"), ("10.1.0.0/16", "b"),
            ("10.1.3.0/24", "e"), ("10.1.2.128/25", "f"),
        ])
        #expect(try match(nested, "10.1.2.3") == "10.1.2.3/32 d")
        #expect(try match(nested, "10.1.2.4") == "10.1.2.0/24 c")
        #expect(try match(nested, "10.1.2.200") == "10.1.2.128/25 f")
        #expect(try match(nested, "10.1.3.9") == "10.1.3.0/24 e")
        #expect(try match(nested, "10.1.4.0") == "10.1.0.0/16 b")
        #expect(try match(nested, "10.200.0.1") == "10.0.0.0/8 a")
        #expect(try match(nested, "11.0.0.0") == nil)
        #expect(try match(nested, "9.255.255.255") == nil)
        #expect(nested.count == 6)
    }

    @Test func familiesAreSeparate() throws {
        let mixed = try set([("0.0.0.0/0", "any v4"), ("2600:1f18::/33", "ec2"), ("2600:1f18:4000::/36", "inner")])
        #expect(try match(mixed, "203.0.113.1") == "0.0.0.0/0 any v4")
        #expect(try match(mixed, "::ffff:203.0.113.1") == "0.0.0.0/0 any v4")
        #expect(try match(mixed, "2001:db8::1") == nil)
        #expect(try match(mixed, "2600:1f18:4abc::1") == "2600:1f18:4000::/36 inner")
        #expect(try match(mixed, "2600:1f18:5000::") == "2600:1f18::/33 ec2")
        #expect(try match(mixed, "2600:1f18:8000::") == nil)
        #expect(mixed.contains(try address("2600:1f18::")))
        #expect(!mixed.contains(try address("::1")))
    }

    @Test func reinsertingReplacesTheValue() throws {
        var ranges = try set([("192.0.2.0/24", "old"), ("192.0.2.0/25", "half")])
        ranges.insert(try #require(CIDR("192.0.2.77/24")), "new")
        #expect(ranges.count == 2)
        #expect(try match(ranges, "192.0.2.200") == "192.0.2.0/24 new")
        #expect(try match(ranges, "192.0.2.1") == "192.0.2.0/25 half")
    }

    @Test func emptySetMatchesNothing() throws {
        let empty = PrefixSet<Int>()
        #expect(empty.isEmpty)
        #expect(empty.longestMatch(try address("1.2.3.4")) == nil)
        #expect(!empty.contains(try address("::")))
    }

    /// Random prefix sets clustered around a few addresses (so they nest and branch at every
    /// depth) against a linear scan; a fixed seed keeps failures reproducible.
    @Test(arguments: [IPAddress.Family.ipv4, .ipv6])
    func agreesWithLinearScan(family: IPAddress.Family) {
        var random = RandomAddresses(family: family, seed: family == .ipv4 ? 0x5eed_0004 : 0x5eed_0006)
        for round in 0..<60 {
            let seeds = (0..<4).map { _ in random.bits() }
            var expected: [CIDR: Int] = [:]
            var set = PrefixSet<Int>()
            for value in 0..<random.below(200) {
                let cidr = random.near(seeds[random.below(4)]).network(prefixLength: random.below(family.bitWidth + 1))
                expected[cidr] = value
                set.insert(cidr, value)
            }
            #expect(set.count == expected.count)
            for _ in 0..<300 {
                let ip = random.below(4) == 0 ? random.address(random.bits()) : random.near(seeds[random.below(4)])
                let best = expected.filter { $0.key.contains(ip) }.max { $0.key.prefixLength < $1.key.prefixLength }
                let found = set.longestMatch(ip)
                #expect(found?.prefix == best?.key && found?.value == best?.value, "round \(round), address \(ip)")
                #expect(set.contains(ip) == (best != nil), "round \(round), address \(ip)")
            }
        }
    }
}

/// Random addresses of one family from SplitMix64 (Steele, Lea and Flood), a tiny seeded
/// generator, so that a failing case can be rerun.
private struct RandomAddresses {
    let family: IPAddress.Family
    private var state: UInt64

    init(family: IPAddress.Family, seed: UInt64) {
        self.family = family
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }

    /// 128 random bits, most significant first; IPv4 uses the top 32.
    mutating func bits() -> (high: UInt64, low: UInt64) { (next(), next()) }

    func address(_ bits: (high: UInt64, low: UInt64)) -> IPAddress {
        family == .ipv4
            ? IPAddress(ipv4: UInt32(truncatingIfNeeded: bits.high >> 32))
            : IPAddress(ipv6High: bits.high, low: bits.low)
    }

    /// `bits` with one or two random bits of the family's width flipped, so that the address
    /// shares a long prefix with `bits` far more often than a uniform one would.
    mutating func near(_ bits: (high: UInt64, low: UInt64)) -> IPAddress {
        var flipped = bits
        for _ in 0...below(2) {
            let bit = below(family.bitWidth)
            if bit < 64 { flipped.high ^= 1 << (63 - bit) } else { flipped.low ^= 1 << (127 - bit) }
        }
        return address(flipped)
    }
}

/// The address `text` names; fails the test when it is not one.
private func address(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> IPAddress {
    try #require(IPAddress(text), sourceLocation: sourceLocation)
}
