import Foundation

/// AWS's published address ranges (`https://ip-ranges.amazonaws.com/ip-ranges.json`), for
/// telling whether a CloudTrail `sourceIPAddress` is AWS's own.
///
/// "From AWS" means: inside any listed prefix (longest-prefix match, IPv4 and IPv6), or a
/// `sourceIPAddress` that is `AWS Internal` or an AWS service host name (see
/// `isAWSServiceSource`). The file changes several times a week; `syncToken` and
/// `createDate` say which version was loaded, so a report can name it.
///
/// Loading uses Foundation's JSON decoder (cold path, once per run); lookups do not.
public struct AWSIPRanges: Sendable {
    /// Where the data came from (a path or a label), as used in error messages.
    public let source: String
    /// `syncToken`: the publication time in Unix seconds, as written.
    public let syncToken: String
    /// `createDate`: the publication time as `YYYY-MM-DD-hh-mm-ss` (UTC), as written.
    public let createDate: String
    /// Entries in `prefixes` as listed: a prefix appears once per service, so this counts
    /// more than the distinct networks.
    public let ipv4EntryCount: Int
    /// Entries in `ipv6_prefixes` as listed (one per prefix and service).
    public let ipv6EntryCount: Int
    private let ranges: PrefixSet<AWSRangeMatch>

    /// The number of distinct networks, IPv4 and IPv6 together.
    public var prefixCount: Int { ranges.count }

    /// Reads and validates an `ip-ranges.json` file.
    public static func load(contentsOf path: String) throws(AWSIPRangesError) -> AWSIPRanges {
        let bytes: [UInt8]
        do {
            bytes = try SmallFile.contents(of: path, limit: maxFileBytes)
        } catch {
            throw .unreadable(path: path, reason: error.description)
        }
        return try AWSIPRanges(data: Data(bytes), source: path)
    }

    /// AWS's file is about 1.5 MB; anything much larger is not it.
    static let maxFileBytes = 64 << 20

    /// Validates a document in the `ip-ranges.json` format; `source` names it in errors.
    ///
    /// Every entry needs its prefix (`ip_prefix` in `prefixes`, `ipv6_prefix` in
    /// `ipv6_prefixes`, of that family), `region` and `service`; `network_border_group` is
    /// optional (older files lack it) and unknown fields are ignored. A prefix with
    /// host bits set is masked, as `CIDR` does. A document without any prefix is an error:
    /// it would make every address look foreign.
    public init(data: Data, source: String) throws(AWSIPRangesError) {
        let document: Document
        if let read = data.withUnsafeBytes({ Document.read($0) }) {
            document = read
        } else {
            do {
                document = try JSONDecoder().decode(Document.self, from: data)
            } catch {
                throw .notRangesDocument(source: source, reason: Self.explain(error))
            }
        }
        guard let syncToken = document.syncToken else { throw .missingField(source: source, field: "syncToken") }
        guard let createDate = document.createDate else { throw .missingField(source: source, field: "createDate") }
        let ipv4 = document.prefixes ?? []
        let ipv6 = document.ipv6Prefixes ?? []
        guard !ipv4.isEmpty || !ipv6.isEmpty else { throw .noPrefixes(source: source) }

        var listings = Listings(source: source)
        try listings.add(ipv4, list: "prefixes", family: .ipv4)
        try listings.add(ipv6, list: "ipv6_prefixes", family: .ipv6)
        self.source = source
        self.syncToken = syncToken
        self.createDate = createDate
        self.ipv4EntryCount = ipv4.count
        self.ipv6EntryCount = ipv6.count
        self.ranges = listings.prefixSet()
    }

    /// The longest listed prefix holding `ip`, with every service listed for that prefix.
    public func lookup(_ ip: IPAddress) -> AWSRangeMatch? {
        ranges.longestMatch(ip)?.value
    }

    /// Whether any listed prefix holds `ip`.
    public func contains(_ ip: IPAddress) -> Bool {
        ranges.contains(ip)
    }

    /// Whether a CloudTrail `sourceIPAddress` is AWS's: an address in a listed prefix, or
    /// what `isAWSServiceSource` accepts.
    public func isFromAWS(sourceIPAddress: String) -> Bool {
        if let ip = IPAddress(sourceIPAddress) { return ranges.contains(ip) }
        return Self.isAWSServiceSource(sourceIPAddress)
    }

    /// Whether `sourceIPAddress` is written by AWS instead of an address: `AWS Internal`
    /// (also as `AWS Internal/<digits>`), or a service host name such as `ec2.amazonaws.com`
    /// (lowercase DNS labels, then `.amazonaws.com`).
    ///
    /// CloudTrail's record reference: "For services in AWS, only the DNS name is displayed",
    /// and since 2022-02-24 it writes `AWS Internal` for calls made through a proxy client
    /// such as the AWS Management Console (`sessionCredentialFromConsole` is then `true`).
    /// So `AWS Internal` means the call entered through AWS, not that no person made it.
    /// The `/<digits>` form is not in the reference but appears in published records; the
    /// field is set by AWS, never by the caller, so accepting it cannot be abused.
    public static func isAWSServiceSource(_ sourceIPAddress: String) -> Bool {
        // One pass over the bytes: every call a service makes for a caller (most of a trail) asks.
        sourceIPAddress.utf8.withContiguousStorageIfAvailable(isAWSServiceSource(bytes:))
            ?? isAWSServiceSource(bytes: Array(sourceIPAddress.utf8))
    }

    private static func isAWSServiceSource(bytes text: some Collection<UInt8>) -> Bool {
        let awsInternal = "AWS Internal".utf8
        if text.starts(with: awsInternal) {
            let rest = text.dropFirst(awsInternal.count)
            return rest.isEmpty
                || (rest.count > 1 && rest.first == UInt8(ascii: "/") && rest.dropFirst().allSatisfy(isDigit))
        }
        let suffix = ".amazonaws.com".utf8
        guard text.count > suffix.count, text.suffix(suffix.count).elementsEqual(suffix) else { return false }
        // Labels of lowercase letters, digits and hyphens: none empty, none starting or ending with a hyphen.
        var previous = UInt8(ascii: ".")
        for byte in text.dropLast(suffix.count) {
            switch byte {
            case UInt8(ascii: "."):
                guard previous != UInt8(ascii: "."), previous != UInt8(ascii: "-") else { return false }
            case UInt8(ascii: "-"):
                guard previous != UInt8(ascii: ".") else { return false }
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                break
            default:
                return false
            }
            previous = byte
        }
        return previous != UInt8(ascii: ".") && previous != UInt8(ascii: "-")
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte &- UInt8(ascii: "0") < 10 }

    /// A decoding failure in the file's terms: the JSON path and what was expected there.
    private static func explain(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "\(error)" }
        func path(_ context: DecodingError.Context) -> String {
            let path = context.codingPath.reduce(into: "") { path, key in
                if let index = key.intValue {
                    path += "[\(index)]"
                } else {
                    path += (path.isEmpty ? "" : ".") + key.stringValue
                }
            }
            return path.isEmpty ? "the document" : path
        }
        func kind(_ type: Any.Type) -> String {
            if type == String.self { return "a string" }
            return String(describing: type).hasPrefix("Array") ? "a list" : "an object"
        }
        switch error {
        case .typeMismatch(let type, let context), .valueNotFound(let type, let context):
            return "\(path(context)) is not \(kind(type))"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "not valid JSON" : "\(path(context)): \(context.debugDescription)"
        case .keyNotFound(let key, let context):
            return "\(path(context)) has no \(key.stringValue)"
        @unknown default:
            return "\(error)"
        }
    }

    /// The file's shape; every field optional so that validation can name what is missing.
    private struct Document: Decodable {
        let syncToken: String?
        let createDate: String?
        let prefixes: [Entry]?
        let ipv6Prefixes: [Entry]?

        enum CodingKeys: String, CodingKey {
            case syncToken, createDate, prefixes
            case ipv6Prefixes = "ipv6_prefixes"
        }

        /// The document as AWS writes it (these keys only, each once; string values or null),
        /// read with RoleWatch's own JSON reader; nil for anything else, which `JSONDecoder`
        /// then reads, and whose errors say what is wrong. Why: `JSONDecoder` took 35 ms on the
        /// built-in snapshot at every start, ahead of every scan; this reader takes a few.
        static func read(_ bytes: UnsafeRawBufferPointer) -> Document? {
            var reader = JSONReader(bytes)
            // nil: not seen yet; `.some(nil)`: null.
            var syncToken, createDate: String??
            var prefixes, ipv6Prefixes: [Entry]??
            do throws(RecordDecodingError) {
                reader.skipWhitespace()
                guard reader.current == UInt8(ascii: "{"), try reader.beginObject() else { return nil }
                repeat {
                    switch try reader.readKey() {
                    case "syncToken" where syncToken == nil: syncToken = try readStringOrNull(&reader)
                    case "createDate" where createDate == nil: createDate = try readStringOrNull(&reader)
                    case "prefixes" where prefixes == nil: prefixes = try readEntries(&reader)
                    case "ipv6_prefixes" where ipv6Prefixes == nil: ipv6Prefixes = try readEntries(&reader)
                    default: return nil
                    }
                } while try reader.nextMember()
                reader.skipWhitespace()
                guard reader.isAtEnd else { return nil }
            } catch {
                return nil
            }
            return Document(
                syncToken: syncToken ?? nil, createDate: createDate ?? nil, prefixes: prefixes ?? nil,
                ipv6Prefixes: ipv6Prefixes ?? nil)
        }

        /// A string, or nil for null; throws for anything else (not AWS's shape).
        private static func readStringOrNull(_ reader: inout JSONReader) throws(RecordDecodingError) -> String? {
            reader.skipWhitespace()
            guard reader.current == UInt8(ascii: "\"") || reader.current == UInt8(ascii: "n") else {
                throw reader.unexpected("expected a string or null")
            }
            return try reader.readString(field: "string")
        }

        /// A list of entries, or nil for null; throws for anything else (not AWS's shape).
        private static func readEntries(_ reader: inout JSONReader) throws(RecordDecodingError) -> [Entry]? {
            reader.skipWhitespace()
            if reader.current == UInt8(ascii: "n") {
                guard try !reader.readIsNotNull() else { throw reader.unexpected("expected null") }
                return nil
            }
            guard reader.current == UInt8(ascii: "[") else { throw reader.unexpected("expected a list") }
            var entries: [Entry] = []
            guard try reader.beginArray() else { return entries }
            repeat {
                reader.skipWhitespace()
                guard reader.current == UInt8(ascii: "{") else { throw reader.unexpected("expected an object") }
                var ipPrefix, ipv6Prefix, region, service, networkBorderGroup: String??
                if try reader.beginObject() {
                    repeat {
                        switch try reader.readKey() {
                        case "ip_prefix" where ipPrefix == nil: ipPrefix = try readStringOrNull(&reader)
                        case "ipv6_prefix" where ipv6Prefix == nil: ipv6Prefix = try readStringOrNull(&reader)
                        case "region" where region == nil: region = try readStringOrNull(&reader)
                        case "service" where service == nil: service = try readStringOrNull(&reader)
                        case "network_border_group" where networkBorderGroup == nil:
                            networkBorderGroup = try readStringOrNull(&reader)
                        default: throw reader.unexpected("a key AWS does not write, or one written twice")
                        }
                    } while try reader.nextMember()
                }
                entries.append(
                    Entry(
                        ipPrefix: ipPrefix ?? nil, ipv6Prefix: ipv6Prefix ?? nil, region: region ?? nil,
                        service: service ?? nil, networkBorderGroup: networkBorderGroup ?? nil))
            } while try reader.nextElement()
            return entries
        }
    }

    private struct Entry: Decodable {
        let ipPrefix: String?
        let ipv6Prefix: String?
        let region: String?
        let service: String?
        let networkBorderGroup: String?

        enum CodingKeys: String, CodingKey {
            case region, service
            case ipPrefix = "ip_prefix"
            case ipv6Prefix = "ipv6_prefix"
            case networkBorderGroup = "network_border_group"
        }
    }

    /// The validated entries of a document, merged per prefix in order of first appearance
    /// (so that building the set does not depend on hash order).
    private struct Listings {
        let source: String
        /// Everything listed for one prefix: a few names each, in arrays rather than sets (a set
        /// per prefix and field was most of reading the built-in ranges, at every start).
        private struct Listing {
            let prefix: CIDR
            var services: [String] = []
            var regions: [String] = []
            var borderGroups: [String] = []
        }

        private var merged: [Listing] = []
        private var position: [CIDR: Int] = [:]

        init(source: String) { self.source = source }

        /// Validates `entries`, the list named `list`, whose prefixes must be of `family`.
        mutating func add(_ entries: [Entry], list: String, family: IPAddress.Family) throws(AWSIPRangesError) {
            let prefixKey = family == .ipv4 ? "ip_prefix" : "ipv6_prefix"
            for (index, entry) in entries.enumerated() {
                // Made only for a message: a string per entry cost more than the checks.
                var field: String { "\(list)[\(index)]" }
                guard let text = family == .ipv4 ? entry.ipPrefix : entry.ipv6Prefix else {
                    throw .missingField(source: source, field: "\(field).\(prefixKey)")
                }
                let prefix: CIDR
                switch CIDR.parse(text) {
                case .success(let parsed): prefix = parsed
                case .failure(let reason):
                    throw .invalidPrefix(source: source, field: "\(field).\(prefixKey)", value: text, reason: reason)
                }
                guard prefix.network.family == family else {
                    throw .wrongFamily(source: source, field: "\(field).\(prefixKey)", value: text, expected: family)
                }
                guard let region = entry.region else { throw .missingField(source: source, field: "\(field).region") }
                guard let service = entry.service else {
                    throw .missingField(source: source, field: "\(field).service")
                }
                let slot = position[prefix] ?? merged.count
                if slot == merged.count {
                    position[prefix] = slot
                    merged.append(Listing(prefix: prefix))
                }
                func note(_ name: String, in names: inout [String]) {
                    if !names.contains(name) { names.append(name) }
                }
                note(service, in: &merged[slot].services)
                note(region, in: &merged[slot].regions)
                if let borderGroup = entry.networkBorderGroup { note(borderGroup, in: &merged[slot].borderGroups) }
            }
        }

        func prefixSet() -> PrefixSet<AWSRangeMatch> {
            PrefixSet(
                merged.lazy.map { listing in
                    let match = AWSRangeMatch(
                        prefix: listing.prefix, services: listing.services.sorted(), regions: listing.regions.sorted(),
                        networkBorderGroups: listing.borderGroups.sorted())
                    return (listing.prefix, match)
                })
        }
    }
}

/// What `ip-ranges.json` says about the longest listed prefix holding an address.
///
/// The file lists a prefix once per service (`AMAZON` covers every AWS address, `EC2`, `S3`
/// and others are subsets); a match gathers all the services of that one prefix. A nested
/// prefix may list only its own service: `3.0.5.32/29` is `EC2_INSTANCE_CONNECT` alone, the
/// `AMAZON` and `EC2` listing is on the `3.0.0.0/15` that holds it. Regions and network border
/// groups are lists for the same reason as services, although the file read in testing never
/// gave one prefix two regions.
public struct AWSRangeMatch: Hashable, Sendable {
    public let prefix: CIDR
    /// Sorted, e.g. `["AMAZON", "EC2"]`.
    public let services: [String]
    /// Sorted, e.g. `["us-east-1"]`; `GLOBAL` for prefixes not tied to a region.
    public let regions: [String]
    /// Sorted; empty when the file has no `network_border_group`.
    public let networkBorderGroups: [String]
}

/// Why an `ip-ranges.json` could not be used. Every message names the source and the
/// offending entry, and says to fetch the file again: a valid one comes only from AWS.
public enum AWSIPRangesError: Error, Hashable, Sendable, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    /// Not JSON, or JSON of another shape (`reason` names the field).
    case notRangesDocument(source: String, reason: String)
    /// `field` is a path such as `prefixes[12].service`.
    case missingField(source: String, field: String)
    case invalidPrefix(source: String, field: String, value: String, reason: CIDRParseError)
    /// An IPv6 prefix in `prefixes` or an IPv4 one in `ipv6_prefixes`.
    case wrongFamily(source: String, field: String, value: String, expected: IPAddress.Family)
    case noPrefixes(source: String)

    public var description: String {
        let fetch = "download the current file from https://ip-ranges.amazonaws.com/ip-ranges.json"
        switch self {
        case .unreadable(let path, let reason):
            return "cannot read AWS IP ranges from \(path): \(reason); \(fetch)"
        case .notRangesDocument(let source, let reason):
            return "\(source): not an AWS ip-ranges.json document (\(reason)); \(fetch)"
        case .missingField(let source, let field):
            return "\(source): \(field) is missing; \(fetch)"
        case .invalidPrefix(let source, let field, let value, let reason):
            return "\(source): \(field) \"\(value)\" is not a CIDR: \(reason); \(fetch)"
        case .wrongFamily(let source, let field, let value, let expected):
            return "\(source): \(field) \"\(value)\" is not an \(expected) prefix; \(fetch)"
        case .noPrefixes(let source):
            return "\(source): lists no prefixes (\"prefixes\" and \"ipv6_prefixes\" are empty or missing); \(fetch)"
        }
    }
}
