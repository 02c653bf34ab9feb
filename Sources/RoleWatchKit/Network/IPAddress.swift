/// An IPv4 or IPv6 address, as found in CloudTrail's `sourceIPAddress` and in CIDR lists.
///
/// Parsing is strict and runs on the hot path (once per record), so it reads the UTF-8 bytes
/// directly: no Foundation, no regular expressions, no allocation.
///
/// What is accepted, and why:
/// - IPv4: exactly four dot-separated decimal octets, each 0...255. An octet with a leading
///   zero (`01.2.3.4`) is rejected, as modern parsers do (Go, Python 3.9.5+): older ones read
///   it as octal, so the text is ambiguous.
/// - IPv6: every text form of RFC 4291 §2.2: full, `::`-compressed (at most one `::`, standing
///   for one or more zero groups), upper- or lowercase hex, 1–4 digits per group, and a dotted
///   IPv4 tail in the last 32 bits (`64:ff9b::1.2.3.4`), whose octets follow the IPv4 rules.
/// - Zone ids (`fe80::1%eth0`) are rejected: CloudTrail records the address a request came
///   from on the internet or a VPC endpoint, never a link-scoped one, and a zone is not part
///   of a network location.
/// - IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`, in any of its spellings) become the IPv4
///   address `a.b.c.d`: dual-stack sockets report IPv4 clients that way, and they must
///   match IPv4 CIDRs and print as IPv4.
///
/// Order: every IPv4 address sorts before every IPv6 address, then by numeric value.
public struct IPAddress: Hashable, Sendable, Comparable, CustomStringConvertible {
    public enum Family: Hashable, Sendable, CustomStringConvertible {
        case ipv4
        case ipv6

        /// 32 or 128: the longest prefix length of the family.
        public var bitWidth: Int { self == .ipv4 ? 32 : 128 }

        public var description: String { self == .ipv4 ? "IPv4" : "IPv6" }
    }

    public let family: Family
    /// The address, most significant bit first. An IPv4 address fills the top 32 bits and the
    /// remaining 96 are zero, so that prefix masks apply to both families alike.
    let bits: Bits128

    init(family: Family, bits: Bits128) {
        self.family = family
        self.bits = bits
    }

    public init(ipv4 value: UInt32) {
        self.init(family: .ipv4, bits: Bits128(high: UInt64(value) << 32, low: 0))
    }

    /// The IPv6 address with these 64-bit halves; an IPv4-mapped value (`::ffff:0:0/96`)
    /// becomes the IPv4 address, as when parsing.
    public init(ipv6High high: UInt64, low: UInt64) {
        if high == 0 && low >> 32 == 0xffff {
            self.init(ipv4: UInt32(truncatingIfNeeded: low))
        } else {
            self.init(family: .ipv6, bits: Bits128(high: high, low: low))
        }
    }

    /// Parses an IPv4 or IPv6 address (see the type's documentation); nil for anything else,
    /// including surrounding whitespace, a zone id or a prefix length.
    public init?(_ text: String) {
        var text = text
        guard let parsed = text.withUTF8(Self.parse) else { return nil }
        self = parsed.address
    }

    public init?(_ text: Substring) {
        guard let parsed = Self.parse(text) else { return nil }
        self = parsed.address
    }

    /// Parses UTF-8 bytes, e.g. a slice of a record being decoded.
    public init?<Bytes: Collection>(utf8 bytes: Bytes) where Bytes.Element == UInt8 {
        let parsed =
            bytes.withContiguousStorageIfAvailable(Self.parse) ?? Array(bytes).withUnsafeBufferPointer(Self.parse)
        guard let parsed else { return nil }
        self = parsed.address
    }

    public static func < (lhs: IPAddress, rhs: IPAddress) -> Bool {
        lhs.family == rhs.family ? lhs.bits < rhs.bits : lhs.family == .ipv4
    }

    /// The network of `prefixLength` bits that holds this address; `prefixLength` must be in
    /// 0...`family.bitWidth` (a config loader validates it before calling).
    public func network(prefixLength: Int) -> CIDR {
        precondition(
            (0...family.bitWidth).contains(prefixLength),
            "prefix length \(prefixLength) is out of range 0-\(family.bitWidth) for \(family)")
        return CIDR(masking: self, prefixLength: prefixLength)
    }

    /// The "network location" of the address: its /`ipv4PrefixLength` network for IPv4, its
    /// /`ipv6PrefixLength` network for IPv6 (typically /24 and /48, the smallest blocks that
    /// are routed on the internet).
    public func network(ipv4PrefixLength: Int, ipv6PrefixLength: Int) -> CIDR {
        network(prefixLength: family == .ipv4 ? ipv4PrefixLength : ipv6PrefixLength)
    }

    /// Dotted quad for IPv4; RFC 5952 for IPv6: lowercase hex without leading zeros, the
    /// longest run of two or more zero groups (the first one on a tie) written as `::`.
    /// IPv6 is always written in hex: mapped addresses are IPv4 here, so no dotted tail is needed.
    public var description: String {
        family == .ipv4 ? ipv4Description : ipv6Description
    }

    /// Written digit by digit: every saved session names its network, and interpolating four
    /// numbers cost more than the rest of its row.
    private var ipv4Description: String {
        let value = UInt32(truncatingIfNeeded: bits.high >> 32)
        return String(unsafeUninitializedCapacity: 15) { buffer in
            var count = 0
            func put(_ byte: UInt8) {
                buffer[count] = byte
                count += 1
            }
            for shift in [24, 16, 8, 0] as [UInt32] {
                let octet = UInt8(truncatingIfNeeded: value >> shift)
                if octet >= 100 { put(UInt8(ascii: "0") + octet / 100) }
                if octet >= 10 { put(UInt8(ascii: "0") + octet / 10 % 10) }
                put(UInt8(ascii: "0") + octet % 10)
                if shift > 0 { put(UInt8(ascii: ".")) }
            }
            return count
        }
    }

    private var ipv6Description: String {
        var runStart = -1
        var runLength = 1
        var index = 0
        while index < 8 {
            var end = index
            while end < 8 && bits.group(end) == 0 { end += 1 }
            if end - index > runLength {
                runStart = index
                runLength = end - index
            }
            index = end + 1
        }
        return String(unsafeUninitializedCapacity: 39) { buffer in
            var count = 0
            func put(_ byte: UInt8) {
                buffer[count] = byte
                count += 1
            }
            var group = 0
            while group < 8 {
                if group == runStart {
                    put(UInt8(ascii: ":"))
                    if group == 0 { put(UInt8(ascii: ":")) }
                    group += runLength
                    continue
                }
                let value = bits.group(group)
                var shift = 12
                while shift > 0 && value >> UInt16(shift) == 0 { shift -= 4 }
                while shift >= 0 {
                    put(UInt8.hexDigits[Int(value >> UInt16(shift) & 0xf)])
                    shift -= 4
                }
                group += 1
                if group < 8 { put(UInt8(ascii: ":")) }
            }
            return count
        }
    }
}

// MARK: - Parsing

extension IPAddress {
    /// An address and whether it was written in IPv6 syntax. CIDR needs the second: the prefix
    /// length of `::ffff:10.0.0.0/104` counts IPv6 bits although the address is IPv4.
    typealias Parsed = (address: IPAddress, writtenAsIPv6: Bool)

    static func parse(_ text: Substring) -> Parsed? {
        var text = text
        return text.withUTF8(parse)
    }

    static func parse(_ text: UnsafeBufferPointer<UInt8>) -> Parsed? {
        // The longest valid text is 45 bytes: "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255".
        guard text.count <= 45 else { return nil }
        if let value = parseIPv4(text, from: 0) {
            return (IPAddress(ipv4: value), false)
        }
        guard let bits = parseIPv6(text) else { return nil }
        return (IPAddress(ipv6High: bits.high, low: bits.low), true)
    }

    /// Reads `a.b.c.d` from `start` to the end of `text`.
    private static func parseIPv4(_ text: UnsafeBufferPointer<UInt8>, from start: Int) -> UInt32? {
        var value: UInt32 = 0
        var octets = 0
        var index = start
        while true {
            let first = index
            var octet: UInt32 = 0
            while index < text.count, text[index] &- UInt8(ascii: "0") < 10 {
                guard index - first < 3 else { return nil }
                octet = octet * 10 + UInt32(text[index] &- UInt8(ascii: "0"))
                index += 1
            }
            let digits = index - first
            guard digits > 0, octet <= 255, digits == 1 || text[first] != UInt8(ascii: "0") else { return nil }
            value = value << 8 | octet
            octets += 1
            if octets == 4 { return index == text.count ? value : nil }
            guard index < text.count, text[index] == UInt8(ascii: ".") else { return nil }
            index += 1
        }
    }

    private static func parseIPv6(_ text: UnsafeBufferPointer<UInt8>) -> Bits128? {
        let colon = UInt8(ascii: ":")
        // Groups before `::` accumulate in `head`, groups after it in `tail`.
        var head = Bits128.zero
        var tail = Bits128.zero
        var groups = 0
        var groupsBeforeGap: Int?
        var index = 0
        func append(_ group: UInt16) {
            if groupsBeforeGap == nil {
                head = head.appending(group: group)
            } else {
                tail = tail.appending(group: group)
            }
            groups += 1
        }
        if text.count >= 2 && text[0] == colon && text[1] == colon {
            groupsBeforeGap = 0
            index = 2
        }
        while index < text.count {
            let start = index
            var group: UInt16 = 0
            while index < text.count, let digit = hexValue(text[index]) {
                guard index - start < 4 else { return nil }
                group = group << 4 | digit
                index += 1
            }
            if index < text.count && text[index] == UInt8(ascii: ".") {
                guard groups <= 6, let ipv4 = parseIPv4(text, from: start) else { return nil }
                append(UInt16(truncatingIfNeeded: ipv4 >> 16))
                append(UInt16(truncatingIfNeeded: ipv4))
                break
            }
            guard index > start, groups < 8 else { return nil }
            append(group)
            if index == text.count { break }
            guard text[index] == colon else { return nil }
            index += 1
            if index < text.count && text[index] == colon {
                guard groupsBeforeGap == nil else { return nil }
                groupsBeforeGap = groups
                index += 1
            } else if index == text.count {
                return nil
            }
        }
        guard let groupsBeforeGap else { return groups == 8 ? head : nil }
        guard groups < 8 else { return nil }
        return head.shiftedLeft(16 * (8 - groupsBeforeGap)) | tail
    }

    private static func hexValue(_ byte: UInt8) -> UInt16? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt16(byte &- UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt16(byte &- UInt8(ascii: "a") &+ 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt16(byte &- UInt8(ascii: "A") &+ 10)
        default: nil
        }
    }
}
