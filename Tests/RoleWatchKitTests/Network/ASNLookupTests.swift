import Foundation
import Testing

@testable import RoleWatchKit

struct ASNLookupTests {
    static let lookup = ASNLookup(database: ASNFixture.database, awsRanges: ExampleSite.awsRanges)

    @Test func takesTheFirstAddressOutsideAWS() {
        // 3.88.19.7 is in AWS's 3.80.0.0/12, which the fixture knows as AS16509: passed over.
        let found = Self.lookup.firstOutsideAWS([
            "3.88.19.7", "AWS Internal", "ec2.amazonaws.com", "203.0.113.9", "198.51.100.23",
        ])
        #expect(
            found
                == OutsideAWSSource(
                    address: "203.0.113.9", system: AutonomousSystem(number: 64500, organization: "Example Hosting")))
    }

    @Test func anAddressTheDatabaseDoesNotKnowIsStillTheFirst() {
        #expect(
            Self.lookup.firstOutsideAWS(["192.0.2.200", "203.0.113.9"])
                == OutsideAWSSource(address: "192.0.2.200", system: nil))
    }

    @Test func noneWhenEveryAddressIsAWSs() {
        #expect(Self.lookup.firstOutsideAWS(["3.88.19.7", "2600:1f18::5", "AWS Internal", ""]) == nil)
        #expect(Self.lookup.autonomousSystem(of: IPAddress("3.88.19.7")!)?.number == 16509, "the database does know it")
    }

    @Test func withoutRangesEveryAddressIsOutside() {
        let lookup = ASNLookup(database: ASNFixture.database, awsRanges: nil)
        #expect(lookup.firstOutsideAWS(["3.88.19.7"])?.system?.number == 16509)
    }

    @Test func partsMergeToTheSmallestAddressInEitherOrder() {
        let a = OutsideAWSSource(address: "198.51.100.23", system: AutonomousSystem(number: 64501))
        let b = OutsideAWSSource(address: "203.0.113.9", system: nil)
        #expect(OutsideAWSSource.first(a, b) == a && OutsideAWSSource.first(b, a) == a)
        #expect(OutsideAWSSource.first(nil, b) == b && OutsideAWSSource.first(b, nil) == b)
    }

    @Test func aDamagedFileWarnsOnceAndEachFailedAddressIsTriedOnce() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try ASNDatabaseTests.damagedSearchTree(in: directory)
        let warnings = Messages()
        let lookup = ASNLookup(database: try ASNDatabase(path: path), awsRanges: nil, warn: { warnings.say($0) })
        let addresses = ["203.0.113.9", "198.51.100.23", "2001:db8::1", "8.8.8.8"].map { IPAddress($0)! }
        for ip in addresses { _ = lookup.autonomousSystem(of: ip) }
        let failed = lookup.failedLookups
        for ip in addresses { _ = lookup.autonomousSystem(of: ip) }
        #expect(failed > 0 && lookup.failedLookups == failed, "a failed address is cached, not looked up again")
        #expect(warnings.all.count == 1 && warnings.all[0].contains(path))
    }
}
