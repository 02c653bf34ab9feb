import Foundation
import Testing

@testable import RoleWatchKit

/// `Tests/Fixtures/asn-test.mmdb`, written by `scripts/make-asn-fixture.py`: documentation
/// networks with the record shapes of GeoLite2-ASN, DB-IP and the City databases, and the AWS
/// prefix 3.80.0.0/12 (as AS16509), which alerts must leave alone.
enum ASNFixture {
    static let path = SourceTree.root.appendingPathComponent("Tests/Fixtures/asn-test.mmdb").path
    static let database: ASNDatabase = {
        do {
            return try ASNDatabase(path: path)
        } catch {
            preconditionFailure("the ASN fixture cannot be opened: \(error)")
        }
    }()
}

struct ASNDatabaseTests {
    @Test(
        arguments: [
            ("203.0.113.9", AutonomousSystem(number: 64500, organization: "Example Hosting")),
            (
                "198.51.100.23",
                AutonomousSystem(number: 64501, organization: "Example Residential ISP", country: "NL")
            ),
            // Only `registered_country` in the record.
            ("192.0.2.1", AutonomousSystem(number: 64502, organization: "Example Mobile Carrier", country: "DE")),
            ("2001:db8::1", AutonomousSystem(number: 64503, organization: "Example IPv6 Transit", country: "JP")),
            (
                "2001:db8:ffff::abcd",
                AutonomousSystem(number: 64503, organization: "Example IPv6 Transit", country: "JP")
            ),
            // An IPv4-mapped address is the IPv4 address.
            ("::ffff:203.0.113.200", AutonomousSystem(number: 64500, organization: "Example Hosting")),
        ])
    func findsTheRecordOfAnAddress(_ text: String, expected: AutonomousSystem) throws {
        #expect(try ASNFixture.database.lookup(IPAddress(text)!) == expected)
    }

    @Test(arguments: ["192.0.2.128", "192.0.2.255", "8.8.8.8", "203.0.114.1", "2001:db9::1", "::1", "2600:1f18::1"])
    func aMissIsNil(_ text: String) throws {
        #expect(try ASNFixture.database.lookup(IPAddress(text)!) == nil)
    }

    @Test func readsTheMetadata() {
        #expect(ASNFixture.database.databaseType == "RoleWatch-Test-ASN")
        #expect(ASNFixture.database.buildEpoch > 1_700_000_000)
    }

    @Test func aMissingFileNamesItself() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path + "/GeoLite2-ASN.mmdb"
        #expect(throws: ASNDatabaseError.unreadable(path: path, reason: "no such file or directory")) {
            try ASNDatabase(path: path)
        }
        #expect(throws: ASNDatabaseError.unreadable(path: directory.path, reason: "it is not a regular file")) {
            try ASNDatabase(path: directory.path)
        }
        let message = ASNDatabaseError.unreadable(path: path, reason: "no such file or directory").description
        #expect(message.hasPrefix("cannot read the ASN database \(path): no such file or directory; "))
        #expect(message.contains("GeoLite2-ASN") && message.contains("ip-to-asn-lite"))
    }

    /// Truncated, empty or not a MaxMind DB at all: refused when opened, with the file's name.
    @Test(arguments: ["truncated", "empty", "text", "random"])
    func aDamagedFileIsRefusedWhenOpened(_ kind: String) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let good = try [UInt8](Data(contentsOf: URL(fileURLWithPath: ASNFixture.path)))
        var random = SplitMix64(seed: 13)
        let bytes: [UInt8] =
            switch kind {
            case "truncated": Array(good.prefix(good.count - 200))
            case "empty": []
            case "text": Array("{\"not\": \"a database\"}\n".utf8)
            default: (0..<4096).map { _ in UInt8.random(in: 0...255, using: &random) }
            }
        let path = try directory.write("asn.mmdb", bytes)
        #expect {
            try ASNDatabase(path: path)
        } throws: { error in
            guard case .damaged(let named, _) = error as? ASNDatabaseError else { return false }
            return named == path && "\(error)".contains("is damaged or not a MaxMind DB file")
        }
    }

    /// Metadata intact, search tree overwritten: opening succeeds (libmaxminddb reads the tree
    /// only when asked), and every lookup either answers or throws the file's error, never crashes.
    @Test func aDamagedSearchTreeFailsLookupsWithoutCrashing() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try Self.damagedSearchTree(in: directory)
        let database = try ASNDatabase(path: path)
        let addresses = ["203.0.113.9", "198.51.100.23", "2001:db8::1", "8.8.8.8"].map { IPAddress($0)! }
        var failed: [IPAddress] = []
        for ip in addresses {
            do {
                _ = try database.lookup(ip)
            } catch {
                guard case .damaged(path, _) = error else { throw error }
                failed.append(ip)
            }
        }
        #expect(!failed.isEmpty)
    }

    /// The fixture with its search tree (the start of the file) overwritten: the metadata at
    /// the end is intact, so it opens.
    static func damagedSearchTree(in directory: TemporaryDirectory) throws -> String {
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: ASNFixture.path)))
        for index in 0..<512 { bytes[index] = 0xff }
        return try directory.write("asn.mmdb", bytes)
    }
}
