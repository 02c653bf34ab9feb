import Foundation
@testable import RoleWatchKit
import Testing

@Suite struct AWSIPRangesTests {
    /// A small document in AWS's format: one prefix listed for two services, a nested one,
    /// an IPv6 pair, and fields RoleWatch does not know (which must be ignored).
    private static let fixture = """
        { "syncToken": "1732140787", "createDate": "2024-11-20-22-13-07", "comment": "unknown fields are fine",
          "prefixes": [
            { "ip_prefix": "3.80.0.0/12", "region": "us-east-1", "service": "AMAZON", "network_border_group": "us-east-1" },
            { "ip_prefix": "3.80.0.0/12", "region": "us-east-1", "service": "EC2", "network_border_group": "us-east-1" },
            { "ip_prefix": "3.80.16.0/24", "region": "us-east-1", "service": "ROUTE53_RESOLVER", "network_border_group": "us-east-1" },
            { "ip_prefix": "13.32.0.0/15", "region": "GLOBAL", "service": "CLOUDFRONT", "network_border_group": "GLOBAL", "extra": 1 }
          ],
          "ipv6_prefixes": [
            { "ipv6_prefix": "2600:1f18::/33", "region": "us-east-1", "service": "AMAZON", "network_border_group": "us-east-1" },
            { "ipv6_prefix": "2600:1f18::/33", "region": "us-east-1", "service": "EC2", "network_border_group": "us-east-1" },
            { "ipv6_prefix": "2600:1f18:4000::/36", "region": "us-east-1", "service": "S3", "network_border_group": "us-east-1" }
          ] }
        """

    @Test func loadsAFileAndMergesServicesPerPrefix() throws {
        let path = try TemporaryFile(Self.fixture).path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let ranges = try AWSIPRanges.load(contentsOf: path)
        #expect(ranges.source == path)
        #expect(ranges.syncToken == "1732140787")
        #expect(ranges.createDate == "2024-11-20-22-13-07")
        #expect(ranges.ipv4EntryCount == 4)
        #expect(ranges.ipv6EntryCount == 3)
        #expect(ranges.prefixCount == 5)

        let ec2 = try #require(ranges.lookup(try address("3.81.2.3")))
        #expect(ec2.prefix == CIDR("3.80.0.0/12"))
        #expect(ec2.services == ["AMAZON", "EC2"])
        #expect(ec2.regions == ["us-east-1"])
        #expect(ec2.networkBorderGroups == ["us-east-1"])
        #expect(ranges.lookup(try address("3.80.16.9"))?.services == ["ROUTE53_RESOLVER"])
        #expect(ranges.lookup(try address("13.33.255.255"))?.regions == ["GLOBAL"])
        #expect(ranges.lookup(try address("2600:1f18:4fff::1"))?.services == ["S3"])
        #expect(ranges.lookup(try address("2600:1f18:5000::1"))?.services == ["AMAZON", "EC2"])
        #expect(ranges.lookup(try address("192.0.2.1")) == nil)
        #expect(ranges.lookup(try address("2001:db8::1")) == nil)
    }

    @Test(arguments: [
        ("3.81.2.3", true), ("::ffff:3.81.2.3", true), ("2600:1f18::10", true), ("198.51.100.1", false),
        ("AWS Internal", true), ("ec2.amazonaws.com", true), ("not-an-address", false), ("", false),
    ])
    func tellsWhetherASourceIsAWS(sourceIPAddress: String, fromAWS: Bool) throws {
        let ranges = try AWSIPRanges(data: Data(Self.fixture.utf8), source: "fixture")
        #expect(ranges.isFromAWS(sourceIPAddress: sourceIPAddress) == fromAWS)
    }

    /// `sourceIPAddress` values AWS writes instead of an address (CloudTrail record reference:
    /// "For services in AWS, only the DNS name is displayed"; `AWS Internal` for console
    /// proxies; `AWS Internal/3` as seen in published records).
    @Test(arguments: [
        ("AWS Internal", true), ("AWS Internal/3", true), ("AWS Internal/", false), ("AWS Internal/x", false),
        ("AWS Internal 3", false), ("ec2.amazonaws.com", true), ("lambda.amazonaws.com", true),
        ("cloudformation.amazonaws.com", true), ("eks-nodegroup.amazonaws.com", true),
        ("ssm.us-east-1.amazonaws.com", true), ("aws internal", false), ("AWS Internal ", false),
        ("amazonaws.com", false), (".amazonaws.com", false), ("ec2..amazonaws.com", false),
        ("evil.amazonaws.com.example", false), ("-x.amazonaws.com", false), ("a b.amazonaws.com", false),
        ("EC2.AMAZONAWS.COM", false), ("203.0.113.5", false), ("signin.aws.amazon.com", false),
        ("ec2-.amazonaws.com", false), ("a.-b.amazonaws.com", false), ("a-b.c-1.amazonaws.com", true),
        ("a..amazonaws.com", false), ("x_y.amazonaws.com", false), ("é.amazonaws.com", false),
    ])
    func recognisesAWSServiceSources(text: String, isService: Bool) {
        #expect(AWSIPRanges.isAWSServiceSource(text) == isService)
    }

    /// A broken document and the exact message the user sees.
    @Test(arguments: [
        ("not json", "t.json: not an AWS ip-ranges.json document (not valid JSON); " + fetch),
        ("[]", "t.json: not an AWS ip-ranges.json document (the document is not an object); " + fetch),
        (
            #"{"createDate": "x", "prefixes": [{"ip_prefix": "1.0.0.0/8", "region": "r", "service": "s"}]}"#,
            "t.json: syncToken is missing; " + fetch
        ),
        (
            #"{"syncToken": "1", "createDate": "x", "prefixes": [], "ipv6_prefixes": []}"#,
            #"t.json: lists no prefixes ("prefixes" and "ipv6_prefixes" are empty or missing); "# + fetch
        ),
        (
            #"{"syncToken": "1", "createDate": "x"}"#,
            #"t.json: lists no prefixes ("prefixes" and "ipv6_prefixes" are empty or missing); "# + fetch
        ),
        (
            #"{"syncToken": "1", "createDate": "x", "prefixes": {}}"#,
            "t.json: not an AWS ip-ranges.json document (prefixes is not a list); " + fetch
        ),
        (
            #"{"syncToken": "1", "createDate": "x", "prefixes": [{"ip_prefix": "1.0.0.0/8", "region": "r", "service": 7}]}"#,
            "t.json: not an AWS ip-ranges.json document (prefixes[0].service is not a string); " + fetch
        ),
        (
            #"{"syncToken": "1", "createDate": "x", "prefixes": [{"ip_prefix": "1.0.0.0/8", "region": "r", "service": "s"}, {"region": "r", "service": "s"}]}"#,
            "t.json: prefixes[1].ip_prefix is missing; " + fetch
        ),
        (
            #"{"syncToken": "1", "createDate": "x", "prefixes": [{"ip_prefix": "1.0.0.0/8", "service": "s"}]}"#,
            "t.json: prefixes[0].region is missing; " + fetch
        ),
        (
            #"{"syncToken": "1", "createDate": "x", "prefixes": [{"ip_prefix": "1.0.0.0/8", "region": "r", "service": null}]}"#,
            "t.json: prefixes[0].service is missing; " + fetch
        ),
        (
            #"{"syncToken": "1", "createDate": "x", "prefixes": [{"ip_prefix": "1.0.0.0/8", "region": "r", "service": "s"}, {"ip_prefix": "3.5.0.0/33", "region": "r", "service": "s"}]}"#,
            #"t.json: prefixes[1].ip_prefix "3.5.0.0/33" is not a CIDR: prefix length 33 is out of range 0-32 for IPv4; "#
                + fetch
        ),
        (
            #"{"syncToken": "1", "createDate": "x", "prefixes": [{"ip_prefix": "3.5.0/16", "region": "r", "service": "s"}]}"#,
            #"t.json: prefixes[0].ip_prefix "3.5.0/16" is not a CIDR: not an IP address: "3.5.0"; "# + fetch
        ),
        (
            #"{"syncToken": "1", "createDate": "x", "prefixes": [{"ip_prefix": "2600::/32", "region": "r", "service": "s"}]}"#,
            #"t.json: prefixes[0].ip_prefix "2600::/32" is not an IPv4 prefix; "# + fetch
        ),
        (
            #"{"syncToken": "1", "createDate": "x", "ipv6_prefixes": [{"ipv6_prefix": "10.0.0.0/8", "region": "r", "service": "s"}]}"#,
            #"t.json: ipv6_prefixes[0].ipv6_prefix "10.0.0.0/8" is not an IPv6 prefix; "# + fetch
        ),
        (
            #"{"syncToken": "1", "createDate": "x", "ipv6_prefixes": [{"ip_prefix": "2600::/32", "region": "r", "service": "s"}]}"#,
            "t.json: ipv6_prefixes[0].ipv6_prefix is missing; " + fetch
        ),
    ])
    func rejectsBrokenDocuments(json: String, message: String) {
        #expect {
            try AWSIPRanges(data: Data(json.utf8), source: "t.json")
        } throws: { error in
            (error as? AWSIPRangesError)?.description == message
        }
    }

    /// `aws_ip_ranges` pointing at something that is not a file: a clear reason at once, never a
    /// hang (a FIFO) or a read of everything (a device, a huge file).
    @Test func refusesWhatIsNotASmallRegularFile() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let fifo = directory.path + "/fifo"
        #expect(mkfifo(fifo, 0o600) == 0)
        let huge = directory.path + "/huge.json"
        #expect(FileManager.default.createFile(atPath: huge, contents: nil))
        #expect(truncate(huge, 1 << 30) == 0)
        for (path, reason) in [
            ("/dev/zero", "it is a device, not a regular file"),
            (fifo, "it is a FIFO (named pipe), not a regular file"),
            (directory.path, "it is a folder, not a file"),
            (huge, "it is 1073741824 bytes, more than the 67108864 bytes such a file can be"),
        ] {
            #expect(throws: AWSIPRangesError.unreadable(path: path, reason: reason)) {
                try AWSIPRanges.load(contentsOf: path)
            }
        }
        #expect(throws: ConfigError(file: fifo, line: nil, problem: "cannot read the config file: it is a FIFO (named pipe), not a regular file")) {
            try SiteConfig.load(path: fifo)
        }
    }

    @Test func namesAMissingFile() {
        let path = "/nonexistent/ip-ranges.json"
        #expect(throws: AWSIPRangesError.unreadable(path: path, reason: "no such file or directory")) {
            try AWSIPRanges.load(contentsOf: path)
        }
        #expect(
            AWSIPRangesError.unreadable(path: path, reason: "no such file").description
                == "cannot read AWS IP ranges from /nonexistent/ip-ranges.json: no such file; " + fetch)
    }

    @Test(
        .enabled(
            if: RealRangesFile.path != nil, "the real ip-ranges.json is not at <repo>/../shared/data/aws-ip-ranges.json"
        ))
    func loadsTheRealFile() throws {
        try checkTheRealFile(try AWSIPRanges.load(contentsOf: try #require(RealRangesFile.path)))
    }

    /// The snapshot in the binary is that same file (so the lookups above hold without `../shared`).
    @Test func theBuiltInSnapshotIsAWSsFile() throws {
        #expect(AWSIPRanges.builtIn.source == "the built-in snapshot")
        try checkTheRealFile(AWSIPRanges.builtIn)
        if let path = RealRangesFile.path {
            let compressed = try #require(
                Data(base64Encoded: AWSIPRanges.builtInGzipBase64, options: .ignoreUnknownCharacters))
            let inflated = try Gunzip.inflate(Array(compressed), limit: AWSIPRanges.maxFileBytes)
            #expect(inflated == Array(try Data(contentsOf: URL(fileURLWithPath: path))), "byte for byte")
        }
    }

    private func checkTheRealFile(_ ranges: AWSIPRanges) throws {
        #expect(ranges.syncToken == "1787433425")
        #expect(ranges.createDate == "2026-08-22-21-17-05")
        #expect(ranges.ipv4EntryCount == 10_666)
        #expect(ranges.ipv6EntryCount == 6_160)
        #expect(ranges.prefixCount == 7_904 + 3_108)

        // Expected values come from a linear scan with Python's ipaddress module.
        let known: [(String, String, [String], [String])] = [
            ("3.5.140.7", "3.5.140.0/22", ["AMAZON", "EC2", "S3"], ["ap-northeast-2"]),
            ("3.0.4.1", "3.0.0.0/15", ["AMAZON", "EC2"], ["ap-southeast-1"]),
            ("3.0.5.33", "3.0.5.32/29", ["EC2_INSTANCE_CONNECT"], ["ap-southeast-1"]),
            ("15.230.15.29", "15.230.15.29/32", ["AMAZON"], ["eu-central-1"]),
            ("13.32.0.1", "13.32.0.0/15", ["AMAZON", "CLOUDFRONT"], ["GLOBAL"]),
            ("2600:1f18:4000::abcd", "2600:1f18::/33", ["AMAZON", "EC2"], ["us-east-1"]),
            ("2001:3fc6:a::1", "2001:3fc6:a::/47", ["ROUTE53"], ["eusc-de-east-1"]),
        ]
        for (text, prefix, services, regions) in known {
            let match = try #require(ranges.lookup(try address(text)), "\(text) is listed")
            #expect(match.prefix.description == prefix, "\(text)")
            #expect(match.services == services, "\(text)")
            #expect(match.regions == regions, "\(text)")
        }
        for outside in ["192.0.2.1", "8.8.8.8", "10.0.0.1", "2001:db8::1", "::1"] {
            #expect(ranges.lookup(try address(outside)) == nil, "\(outside) is not AWS's")
        }
    }
}

private let fetch = "download the current file from https://ip-ranges.amazonaws.com/ip-ranges.json"

/// The real `ip-ranges.json`, kept outside the repository: `<repo>/../shared/data/`, where
/// `<repo>` is the nearest directory above this file that holds `Package.swift`.
private enum RealRangesFile {
    static let path: String? = {
        var directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while directory.path != "/" {
            if FileManager.default.fileExists(atPath: directory.appendingPathComponent("Package.swift").path) {
                let file = directory.deletingLastPathComponent().appendingPathComponent(
                    "shared/data/aws-ip-ranges.json")
                return FileManager.default.fileExists(atPath: file.path) ? file.path : nil
            }
            directory = directory.deletingLastPathComponent()
        }
        return nil
    }()
}

/// A file with the given contents in the temporary directory; the test removes it.
private struct TemporaryFile {
    let path: String

    init(_ contents: String) throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("ip-ranges-\(UUID().uuidString).json").path
        try Data(contents.utf8).write(to: URL(fileURLWithPath: path))
    }
}

/// A document is read by RoleWatch's own JSON reader when it has AWS's shape and by `JSONDecoder`
/// otherwise (an unknown key is enough): both must give the same ranges, or the same error.
@Suite struct AWSIPRangesReaderTests {
    /// What a test can see of a set of ranges: its fields and the match for each address given.
    private static func outcome(_ json: String, probes: [IPAddress]) -> [String] {
        do {
            let ranges = try AWSIPRanges(data: Data(json.utf8), source: "t.json")
            let fields = "\(ranges.syncToken) \(ranges.createDate) \(ranges.ipv4EntryCount) \(ranges.ipv6EntryCount) "
                + "\(ranges.prefixCount)"
            return [fields] + probes.map { probe in "\(probe): " + (ranges.lookup(probe).map { "\($0)" } ?? "none") }
        } catch {
            return ["error: \(error)"]
        }
    }

    /// `json` (an object) as read, and with an unknown key that sends it to `JSONDecoder`.
    private static func expectSameReading(_ json: String, probes: [IPAddress], sourceLocation: SourceLocation = #_sourceLocation) {
        let forced = json.replacingOccurrences(of: "{", with: #"{"comment":0,"#, options: [], range: json.range(of: "{"))
        let (own, decoder) = (outcome(json, probes: probes), outcome(forced, probes: probes))
        // The first difference only: a snapshot has thousands of probes.
        let first = zip(own, decoder).first { $0 != $1 }
        #expect(first == nil && own.count == decoder.count, "own reader \(first?.0 ?? "\(own.count) lines"), JSONDecoder \(first?.1 ?? "\(decoder.count) lines")", sourceLocation: sourceLocation)
    }

    @Test func theBuiltInSnapshotReadsTheSameEitherWay() throws {
        let compressed = try #require(Data(base64Encoded: AWSIPRanges.builtInGzipBase64, options: .ignoreUnknownCharacters))
        let json = String(decoding: try Gunzip.inflate(Array(compressed), limit: 64 << 20), as: UTF8.self)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        var probes: [IPAddress] = []
        for (list, key) in [("prefixes", "ip_prefix"), ("ipv6_prefixes", "ipv6_prefix")] {
            for entry in try #require(document[list] as? [[String: Any]]) {
                let text = try #require(entry[key] as? String)
                probes.append(try address(String(text[..<text.firstIndex(of: "/")!])))
            }
        }
        #expect(probes.count > 1000)
        Self.expectSameReading(json, probes: probes)
    }

    @Test(arguments: [
        #"{"syncToken":"1","createDate":"2024-01-01-00-00-00","prefixes":[{"ip_prefix":"3.80.0.0/12","region":"us-east-\u0031","service":"EC2","network_border_group":null}],"ipv6_prefixes":null}"#,
        #"{"syncToken":"1","createDate":"2024-01-01-00-00-00","prefixes":[],"ipv6_prefixes":[{"ipv6_prefix":"2600:1f18::/33","region":"r","service":"S3"}]}"#,
        #"{"syncToken":"1","syncToken":"2","createDate":"d","prefixes":[{"ip_prefix":"3.80.0.0/12","region":"r","service":"EC2"}]}"#,
        #"{"syncToken":"1","createDate":"d","prefixes":[{"ip_prefix":"3.80.0.0/12","region":"r","service":"EC2","service":"S3"}]}"#,
        #"{"syncToken":null,"createDate":"d","prefixes":[{"ip_prefix":"3.80.0.0/12","region":"r","service":"EC2"}]}"#,
        #"{"syncToken":"1","createDate":"d","prefixes":[{"ip_prefix":"3.80.0.0/12","service":"EC2"}]}"#,
        #"{"syncToken":"1","createDate":"d","prefixes":[null]}"#,
        #"{"syncToken":"1","createDate":"d","prefixes":[{"ip_prefix":5,"region":"r","service":"EC2"}]}"#,
        #"{"syncToken":"1","createDate":"d","prefixes":[{"ip_prefix":"3.80.0.0/12","region":"r","service":"EC2"}]} x"#,
        #"{"syncToken":"1","createDate":"d","prefixes":[{"ip_prefix":"3.80.0.0/12","region":"r","service":"EC2"},]}"#,
        #"{"syncToken":"1","createDate":"d","prefixes":[{"ip_prefix":"2600:1f18::/33","region":"r","service":"EC2"}]}"#,
        #"{"syncToken":"1","createDate":"d"}"#,
    ])
    func oddDocumentsReadTheSameEitherWay(json: String) throws {
        let probes = try ["3.81.2.3", "2600:1f18::1", "192.0.2.1"].map { try address($0) }
        Self.expectSameReading(json, probes: probes)
    }
}

/// The address `text` names; fails the test when it is not one.
private func address(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> IPAddress {
    try #require(IPAddress(text), sourceLocation: sourceLocation)
}
