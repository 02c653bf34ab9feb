/// A network written as `address/prefixLength` (`10.0.0.0/8`, `2600:1f18::/33`), as in
/// `ip-ranges.json` and in site config allow lists.
///
/// What must hold: `network` has every bit past `prefixLength` clear, and `prefixLength` is in
/// 0...`network.family.bitWidth`. A bare address is the /32 or /128 network of that address.
/// An IPv4-mapped IPv6 network (`::ffff:10.0.0.0/104`) is the IPv4 network it maps
/// (`10.0.0.0/8`), matching how `IPAddress` folds mapped addresses.
public struct CIDR: Hashable, Sendable, CustomStringConvertible {
    public let network: IPAddress
    public let prefixLength: Int
    /// The text (or address) had bits set past the prefix, as in `10.0.0.1/8`. They are
    /// cleared, but a config loader should warn: the writer may have meant one host.
    /// Not part of equality or hashing: `10.0.0.1/8` and `10.0.0.0/8` are the same network.
    public let hadHostBits: Bool

    /// `prefixLength` must be in 0...`address.family.bitWidth`.
    init(masking address: IPAddress, prefixLength: Int) {
        let masked = address.bits & Bits128.prefixMask(prefixLength)
        network = IPAddress(family: address.family, bits: masked)
        self.prefixLength = prefixLength
        hadHostBits = masked != address.bits
    }

    /// Parses `address/prefixLength` or a bare address; nil where `parse` gives an error.
    public init?(_ text: String) {
        guard case .success(let cidr) = Self.parse(text) else { return nil }
        self = cidr
    }

    /// Parses `address/prefixLength` or a bare address, saying what is wrong when it cannot.
    /// Host bits are accepted and cleared (see `hadHostBits`). The prefix length is decimal
    /// without leading zeros, like the address octets; whitespace is not trimmed.
    public static func parse(_ text: String) -> Result<CIDR, CIDRParseError> {
        let slash = text.utf8.firstIndex(of: UInt8(ascii: "/"))
        let addressText = text[..<(slash ?? text.endIndex)]
        guard let parsed = IPAddress.parse(addressText) else {
            return .failure(.notAnAddress(String(addressText)))
        }
        let address = parsed.address
        let isMapped = parsed.writtenAsIPv6 && address.family == .ipv4
        guard let slash else {
            return .success(CIDR(masking: address, prefixLength: address.family.bitWidth))
        }
        let lengthText = String(text[text.utf8.index(after: slash)...])
        guard let length = decimal(lengthText) else {
            return .failure(.prefixLengthNotDecimal(lengthText))
        }
        if isMapped {
            guard (96...128).contains(length) else { return .failure(.mappedPrefixLengthOutOfRange(lengthText)) }
            return .success(CIDR(masking: address, prefixLength: length - 96))
        }
        guard length <= address.family.bitWidth else {
            return .failure(.prefixLengthOutOfRange(lengthText, address.family))
        }
        return .success(CIDR(masking: address, prefixLength: length))
    }

    /// Whether `ip` is inside this network; an address of the other family never is.
    public func contains(_ ip: IPAddress) -> Bool {
        ip.family == network.family && ip.bits.commonPrefixLength(with: network.bits) >= prefixLength
    }

    public var description: String { "\(network)/\(prefixLength)" }

    public static func == (lhs: CIDR, rhs: CIDR) -> Bool {
        lhs.network == rhs.network && lhs.prefixLength == rhs.prefixLength
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(network)
        hasher.combine(prefixLength)
    }

    /// A decimal number without sign or leading zeros; lengths of four or more digits are
    /// out of range anyway, so they read as 1000 rather than risk overflow.
    private static func decimal(_ text: String) -> Int? {
        let digits = text.utf8
        guard !digits.isEmpty, digits.allSatisfy({ $0 &- UInt8(ascii: "0") < 10 }) else { return nil }
        guard digits.count == 1 || digits.first != UInt8(ascii: "0") else { return nil }
        return digits.count > 3 ? 1000 : digits.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
    }
}

/// Why a CIDR could not be read; `description` is the message for the user, naming the
/// offending text as written.
public enum CIDRParseError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The part before `/` (or the whole text) is not an IPv4 or IPv6 address.
    case notAnAddress(String)
    /// The part after `/` is empty, signed, has a leading zero or a non-digit.
    case prefixLengthNotDecimal(String)
    /// The prefix length exceeds the family's 32 or 128 bits.
    case prefixLengthOutOfRange(String, IPAddress.Family)
    /// An IPv4-mapped IPv6 network needs a prefix length of 96 or more: a shorter one would
    /// cover addresses that are not IPv4.
    case mappedPrefixLengthOutOfRange(String)

    public var description: String {
        switch self {
        case .notAnAddress(let text):
            "not an IP address: \"\(text)\""
        case .prefixLengthNotDecimal(let text):
            "prefix length \"\(text)\" is not a decimal number without leading zeros"
        case .prefixLengthOutOfRange(let text, let family):
            "prefix length \(text) is out of range 0-\(family.bitWidth) for \(family)"
        case .mappedPrefixLengthOutOfRange(let text):
            "prefix length \(text) is out of range 96-128 for an IPv4-mapped IPv6 address; write the IPv4 network instead"
        }
    }
}
