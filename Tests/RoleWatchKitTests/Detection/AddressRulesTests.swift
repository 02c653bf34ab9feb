import Testing

@testable import RoleWatchKit

/// non-aws-ip and unlisted-ip together: a call outside AWS and outside the allow-list is one
/// alert, non-aws-ip's, with both reasons; unlisted-ip keeps what non-aws-ip does not see.
@Suite struct AddressRulesTests {
    private func alerts(ip: String, without: String? = nil) throws -> [Alert] {
        let event = ExampleEvent.call(
            "GetObject", source: "s3.amazonaws.com", role: ExampleSite.customerRole("444455556666"),
            session: "vendor-scan-1a2b3c4d", key: "ASIASTOLEN000000001", ip: ip, minute: 3)
        let rules = try RuleSet.builtIn().filter { $0.detector != without }
        return try ExampleRunner.alerts(DetectorExample("one call", events: [event]), rules: rules)
            .filter { ["non-aws-ip", "unlisted-ip"].contains($0.rule) }
    }

    @Test func outsideAWSAndTheAllowListIsOneAlertWithBothReasons() throws {
        let found = try alerts(ip: ExampleSite.homeIP)
        #expect(found.map(\.rule) == ["non-aws-ip"])
        #expect(found.first?.severity == .high)
        #expect(found.first?.reasons.last == "\(ExampleSite.homeIP) is not in allowed_cidrs either")
    }

    @Test func withoutNonAWSIPInTheRuleSetUnlistedIPStillFires() throws {
        #expect(try alerts(ip: ExampleSite.homeIP, without: NonAWSIPDetector.id).map(\.rule) == ["unlisted-ip"])
    }

    @Test func insideAWSButNotOnTheAllowListIsUnlistedIPs() throws {
        #expect(try alerts(ip: ExampleSite.otherEC2IP).map(\.rule) == ["unlisted-ip"])
    }
}
