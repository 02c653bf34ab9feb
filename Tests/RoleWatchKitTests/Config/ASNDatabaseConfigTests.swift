import Foundation
import Testing

@testable import RoleWatchKit

/// `asn_database:` in the site config.
struct ASNDatabaseConfigTests {
    /// A config in a folder of its own, beside a copy of the fixture named `asn.mmdb`.
    static func site(_ yaml: String, in directory: TemporaryDirectory, database: [UInt8]? = nil) throws -> String {
        let bytes = try database ?? [UInt8](Data(contentsOf: URL(fileURLWithPath: ASNFixture.path)))
        try directory.write("etc/asn.mmdb", bytes)
        return try directory.write("etc/rolewatch.yaml", Array(yaml.utf8))
    }

    @Test func aRelativePathResolvesAgainstTheConfigsFolder() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let config = try SiteConfig.load(path: try Self.site("asn_database: asn.mmdb\n", in: directory))
        #expect(config.asnDatabase?.path == directory.path + "/etc/asn.mmdb")
        #expect(config.asnDatabase?.databaseType == "RoleWatch-Test-ASN")
    }

    @Test func anAbsolutePathIsTakenAsIs() throws {
        let config = try SiteConfig.parse("asn_database: \(ASNFixture.path)\n", path: "/elsewhere/site.yaml")
        #expect(config.asnDatabase?.path == ASNFixture.path)
    }

    @Test func withoutTheKeyThereIsNoDatabase() throws {
        #expect(ExampleSite.config.asnDatabase == nil)
        #expect(DetectionContext(config: ExampleSite.config, awsRanges: ExampleSite.awsRanges).asnLookup == nil)
    }

    @Test func aMissingDatabaseIsAConfigErrorNamingBothFiles() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try Self.site(
            "roles:\n  - arn: arn:aws:iam::1:role/X\nasn_database: GeoLite2-ASN.mmdb\n", in: directory)
        #expect {
            _ = try SiteConfig.load(path: path)
        } throws: { error in
            guard let error = error as? ConfigError else { return false }
            return error.file == path && error.line == 3
                && error.problem.hasPrefix(
                    "asn_database: cannot read the ASN database \(directory.path)/etc/GeoLite2-ASN.mmdb: no such file or directory; check the path, or download GeoLite2-ASN"
                )
        }
    }

    @Test func aDamagedDatabaseIsAConfigError() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try Self.site("asn_database: asn.mmdb\n", in: directory, database: Array("garbage".utf8))
        #expect {
            _ = try SiteConfig.load(path: path)
        } throws: { error in
            guard let error = error as? ConfigError else { return false }
            return error.line == 1
                && error.problem.hasPrefix(
                    "asn_database: the ASN database \(directory.path)/etc/asn.mmdb is damaged or not a MaxMind DB file ("
                )
        }
    }

    @Test(arguments: [
        ("asn_database: ''\n", "expected the path of a .mmdb file"),
        ("asn_database: [a, b]\n", "expected a single value"),
    ])
    func refusesAValueThatIsNotAPath(_ yaml: String, problem: String) {
        #expect {
            _ = try SiteConfig.parse(yaml, path: "site.yaml")
        } throws: { error in
            (error as? ConfigError).map { $0.line == 1 && $0.problem.contains(problem) } ?? false
        }
    }
}
