import CMaxMindDB

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Who announces an address on the internet, as a MaxMind DB file says: the autonomous system's
/// number and organisation (GeoLite2-ASN, DB-IP ASN Lite), and the country where the database
/// has one (GeoLite2-City or -Country, DB-IP's combined databases).
public struct AutonomousSystem: Codable, Hashable, Sendable {
    /// `autonomous_system_number`, e.g. 64500.
    public var number: UInt32?
    /// `autonomous_system_organization`, e.g. `Example Hosting`.
    public var organization: String?
    /// ISO 3166-1 alpha-2: `country.iso_code`, else `registered_country.iso_code` (the country
    /// the network is registered in, which the databases give when they cannot place it).
    public var country: String?

    public init(number: UInt32? = nil, organization: String? = nil, country: String? = nil) {
        self.number = number
        self.organization = organization
        self.country = country
    }

    /// `AS64500 Example Hosting (NL)`, leaving out what is unknown.
    public var summary: String {
        var parts: [String] = []
        if let number { parts.append("AS\(number)") }
        if let organization { parts.append(organization) }
        if let country { parts.append("(\(country))") }
        return parts.joined(separator: " ")
    }
}

/// A MaxMind DB file (`asn_database`), read through libmaxminddb.
///
/// The file is memory-mapped once when opened and only read after that: libmaxminddb's lookups
/// are safe from any thread on an opened database, so the type is `Sendable` although it wraps
/// a C handle. Replace the file by renaming a new one over it (as `ip-ranges update` does), not
/// by writing into it: a process that has it mapped keeps reading the old one until it restarts,
/// and one whose mapped file shrinks under it would fault.
public final class ASNDatabase: @unchecked Sendable {
    public let path: String
    /// `database_type` from the file's metadata, e.g. `GeoLite2-ASN` or `DBIP-ASN-Lite (compat=GeoLite2-ASN)`.
    public let databaseType: String
    /// When the file was built (`build_epoch`, Unix seconds): says how old the data is.
    public let buildEpoch: UInt64
    private let handle: UnsafeMutablePointer<MMDB_s>

    /// Opens and checks `path`; a missing, unreadable or damaged file is an `ASNDatabaseError`
    /// naming it.
    public init(path: String) throws(ASNDatabaseError) {
        var info = stat()
        guard stat(path, &info) == 0 else { throw .unreadable(path: path, reason: systemErrorText()) }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw .unreadable(path: path, reason: "it is not a regular file")
        }
        // libmaxminddb's own words for these ("error opening the specified MaxMind DB file") lose errno.
        guard access(path, R_OK) == 0 else { throw .unreadable(path: path, reason: systemErrorText()) }
        guard info.st_size > 0 else { throw .damaged(path: path, reason: "the file is empty") }
        let handle = UnsafeMutablePointer<MMDB_s>.allocate(capacity: 1)
        let status = MMDB_open(path, UInt32(MMDB_MODE_MMAP), handle)
        guard status == MMDB_SUCCESS else {
            // A failed MMDB_open has released what it allocated: no MMDB_close.
            handle.deallocate()
            if status == MMDB_FILE_OPEN_ERROR { throw .unreadable(path: path, reason: Self.message(status)) }
            throw .damaged(path: path, reason: Self.message(status))
        }
        self.path = path
        self.handle = handle
        databaseType = handle.pointee.metadata.database_type.map { String(cString: $0) } ?? ""
        buildEpoch = handle.pointee.metadata.build_epoch
    }

    deinit {
        MMDB_close(handle)
        handle.deallocate()
    }

    /// What the database says about `ip`; nil when it has no record for it (or the record has
    /// none of the fields read). Throws only when the file is damaged where the lookup led.
    public func lookup(_ ip: IPAddress) throws(ASNDatabaseError) -> AutonomousSystem? {
        var error: Int32 = MMDB_SUCCESS
        var result: MMDB_lookup_result_s
        switch ip.family {
        case .ipv4:
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = UInt32(truncatingIfNeeded: ip.bits.high >> 32).bigEndian
            result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { MMDB_lookup_sockaddr(handle, $0, &error) }
            }
        case .ipv6:
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            withUnsafeMutableBytes(of: &address.sin6_addr) { bytes in
                bytes.storeBytes(of: ip.bits.high.bigEndian, toByteOffset: 0, as: UInt64.self)
                bytes.storeBytes(of: ip.bits.low.bigEndian, toByteOffset: 8, as: UInt64.self)
            }
            result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { MMDB_lookup_sockaddr(handle, $0, &error) }
            }
        }
        // An IPv4-only database holds nothing about IPv6 addresses: a miss, not damage.
        if error == MMDB_IPV6_LOOKUP_IN_IPV4_DATABASE_ERROR { return nil }
        guard error == MMDB_SUCCESS else { throw .damaged(path: path, reason: Self.message(error)) }
        guard result.found_entry else { return nil }
        var entry = result.entry
        var system = AutonomousSystem()
        if let data = try value(&entry, "autonomous_system_number") {
            system.number = Self.unsigned32(data)
        }
        if let data = try value(&entry, "autonomous_system_organization") { system.organization = Self.string(data) }
        for key in ["country", "registered_country"] where system.country == nil {
            if let data = try value(&entry, key, "iso_code") { system.country = Self.string(data) }
        }
        return system == AutonomousSystem() ? nil : system
    }

    /// The value at `first`(.`second`) of a record; nil where the record has none.
    private func value(_ entry: inout MMDB_entry_s, _ first: String, _ second: String? = nil)
        throws(ASNDatabaseError) -> MMDB_entry_data_s?
    {
        var data = MMDB_entry_data_s()
        let status =
            if let second {
                rolewatch_mmdb_get_value(&entry, &data, first, second)
            } else {
                rolewatch_mmdb_get_value(&entry, &data, first, nil)
            }
        // A record of another shape (`country` not a map) lacks the field; it is not damage.
        if status == MMDB_LOOKUP_PATH_DOES_NOT_MATCH_DATA_ERROR { return nil }
        guard status == MMDB_SUCCESS else { throw .damaged(path: path, reason: Self.message(status)) }
        return data.has_data ? data : nil
    }

    /// An AS number as the databases store it: uint32 in GeoLite2 and DB-IP, any unsigned width
    /// from other writers.
    private static func unsigned32(_ data: MMDB_entry_data_s) -> UInt32? {
        switch Int32(data.type) {
        case MMDB_DATA_TYPE_UINT16: UInt32(data.uint16)
        case MMDB_DATA_TYPE_UINT32: data.uint32
        case MMDB_DATA_TYPE_UINT64: UInt32(exactly: data.uint64)
        case MMDB_DATA_TYPE_INT32: UInt32(exactly: data.int32)
        default: nil
        }
    }

    /// A UTF-8 string value (not NUL-terminated in the file); nil for another type or an empty one.
    private static func string(_ data: MMDB_entry_data_s) -> String? {
        guard Int32(data.type) == MMDB_DATA_TYPE_UTF8_STRING, data.data_size > 0, let bytes = data.utf8_string else {
            return nil
        }
        return String(decoding: UnsafeRawBufferPointer(start: bytes, count: Int(data.data_size)), as: UTF8.self)
    }

    private static func message(_ status: Int32) -> String {
        String(cString: MMDB_strerror(status)).lowercased()
    }
}

/// Why the ASN database cannot be used. Every message names the file and says what to do.
public enum ASNDatabaseError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Missing, not a regular file, or not readable.
    case unreadable(path: String, reason: String)
    /// Not a MaxMind DB file, or one damaged (truncated, overwritten).
    case damaged(path: String, reason: String)

    /// Where a good file comes from.
    static let sources =
        "GeoLite2-ASN (https://dev.maxmind.com/geoip/geolite2-free-geolocation-data) or DB-IP's IP to ASN Lite (https://db-ip.com/db/download/ip-to-asn-lite), in MaxMind DB (.mmdb) format"

    public var description: String {
        switch self {
        case .unreadable(let path, let reason):
            return "cannot read the ASN database \(path): \(reason); check the path, or download \(Self.sources)"
        case .damaged(let path, let reason):
            return
                "the ASN database \(path) is damaged or not a MaxMind DB file (\(reason)); download it again: \(Self.sources)"
        }
    }
}
