import Foundation
import Testing

@testable import RoleWatchKit

@Suite struct DailyReportTests {
    typealias F = ReportFixtures

    private func report(
        _ events: [CloudTrailEvent], previous: [CloudTrailEvent]? = nil, config: SiteConfig = ExampleSite.config,
        awsRanges: AWSIPRanges? = ExampleSite.awsRanges
    ) -> DailyReport {
        DailyReport(
            activity: F.activity(events), previous: previous.map { F.activity($0, day: F.day.previous) }, alerts: [],
            config: config, awsRanges: awsRanges)
    }

    private func assume(
        _ role: String = ExampleSite.customerRole(F.customers[0]), by caller: ExampleEvent.Caller = F.outbound,
        session: String = "vendor-scan-0a1b2c3d", ip: String = ExampleSite.backendIP, hour: Int = 9, dayOffset: Int = 0,
        denied: Bool = false
    ) -> CloudTrailEvent {
        ExampleEvent.assumeRole(
            by: caller, role: role, session: session, ip: ip, minute: F.at(hour, dayOffset: dayOffset),
            error: denied ? "AccessDenied" : nil)
    }

    @Test func comparesWithTheDayBefore() throws {
        let report = try F.incidentReport()
        #expect(report.previousDay?.description == "2025-11-19")
        #expect(report.calls.previous?.total == 120)
        #expect(report.calls.calls.total == 127)
        #expect(abs((report.calls.percentChange ?? 0) - 700.0 / 120) < 1e-9)
        #expect(Set(report.newSourceAddresses.map(\.address)) == [ExampleSite.homeIP, ExampleSite.otherEC2IP])
        #expect(Set(report.newNetworks.map(\.network.description)) == ["198.51.100.0/24", "3.88.19.0/24"])
        #expect(
            Set(report.newCallers.map(\.arn)) == [
                "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_AdministratorAccess_0123456789abcdef/alice@acme.example",
                "arn:aws:iam::111122223333:user/mallory",
            ])
        #expect(report.newSessionNames.contains { $0.name == F.maliciousName })
        #expect(!report.newSessionNames.contains { $0.name == "acme-backend-i-0a1b2c3d4e5f60718" })
        let outbound = try #require(report.watchedRoles.first { $0.pattern == ExampleSite.outboundRole })
        #expect(outbound.trend.previous?.total == 24 && outbound.trend.calls.total == 25)
        let customers = try #require(
            report.watchedRoles.first { $0.pattern == "arn:aws:iam::*:role/AcmeIntegrationRole" })
        #expect(customers.trend.previous?.total == 96 && customers.trend.calls == CallCount(succeeded: 96, denied: 6))
        #expect(customers.roleCount == 2)
        #expect(report.input.damagedFiles == 1 && report.input.badRecords == 3)
    }

    @Test func rateChangeNeedsCallsTheDayBefore() {
        let quietBefore = report([assume()], previous: [])
        #expect(quietBefore.calls.previous == .zero)
        #expect(quietBefore.calls.percentChange == nil)
        #expect(ReportText.change(quietBefore.calls) == "new")
        let halved = report([assume()], previous: [assume(dayOffset: -1), assume(hour: 10, dayOffset: -1)])
        #expect(halved.calls.percentChange == -50)
        #expect(ReportText.change(halved.calls) == "-50%")
        let role = halved.roles.rows.first
        #expect(role?.trend.previous?.total == 2 && role?.trend.percentChange == -50)
    }

    @Test func withoutADayBeforeNothingIsNew() {
        let report = report([assume(ip: ExampleSite.homeIP)])
        #expect(report.previousDay == nil)
        #expect(report.calls.previous == nil && report.calls.percentChange == nil)
        #expect(report.newSourceAddresses.isEmpty && report.newCallers.isEmpty && report.newSessionNames.isEmpty)
        #expect(report.roles.rows.first?.trend.previous == nil)
        #expect(report.watchedRoles.allSatisfy { $0.previousHourly == nil })
    }

    @Test func marksAddressesAsAWSAndAllowed() throws {
        let report = report([
            assume(ip: ExampleSite.backendIP), assume(ip: ExampleSite.otherEC2IP), assume(ip: ExampleSite.homeIP),
            assume(ip: "2600:1f18:45d5:d3ff::10"), assume(ip: "AWS Internal"),
            assume(ip: "not-an-address"),
        ])
        func entry(_ address: String) throws -> SourceAddressEntry {
            try #require(report.sourceAddresses.rows.first { $0.address == address })
        }
        let backend = try entry(ExampleSite.backendIP)
        #expect(backend.kind == .ip && backend.aws == .yes && backend.allowList == .yes)
        #expect(backend.network?.description == "3.95.112.0/24")
        let otherEC2 = try entry(ExampleSite.otherEC2IP)
        #expect(otherEC2.aws == .yes && otherEC2.allowList == .no)
        let home = try entry(ExampleSite.homeIP)
        #expect(home.aws == .no && home.allowList == .no)
        let ipv6 = try entry("2600:1f18:45d5:d3ff::10")
        #expect(ipv6.aws == .yes && ipv6.allowList == .yes && ipv6.network?.description == "2600:1f18:45d5::/48")
        let service = try entry("AWS Internal")
        #expect(service.kind == .awsService && service.aws == .yes && service.allowList == .unknown)
        #expect(service.network == nil)
        let junk = try entry("not-an-address")
        #expect(junk.kind == .other && junk.aws == .no && junk.allowList == .no)
        // Addresses that need a look come first.
        #expect(report.sourceAddresses.rows.prefix(3).allSatisfy { $0.aws == .no || $0.allowList == .no })
    }

    @Test func withoutRangesOrAllowListMarksAreUnknown() throws {
        var config = ExampleSite.config
        config.allowedCIDRs = []
        let report = report([assume(ip: ExampleSite.homeIP)], config: config, awsRanges: nil)
        let home = try #require(report.sourceAddresses.rows.first)
        #expect(home.aws == .unknown && home.allowList == .unknown)
        #expect(report.basis.awsRangesCreateDate == nil && report.basis.allowedCIDRs.isEmpty)
    }

    @Test func aRolesOwnAllowListCountsAsAllowed() throws {
        var config = ExampleSite.config
        config.roles[1].allowedCIDRs = [try #require(CIDR("198.51.100.0/24"))]
        let report = report([assume(ip: ExampleSite.homeIP)], config: config)
        #expect(report.sourceAddresses.rows.first?.allowList == .yes)
        #expect(report.basis.allowedCIDRs.map(\.description).contains("198.51.100.0/24"))
    }

    @Test func groupsAddressesIntoNetworks() throws {
        let report = report(
            [
                assume(ip: ExampleSite.backendIP), assume(ip: "3.95.112.201"), assume(ip: "3.95.112.201"),
                assume(ip: ExampleSite.otherEC2IP), assume(ip: "3.88.19.200"), assume(ip: ExampleSite.homeIP),
            ], previous: [assume(ip: "3.95.112.9", dayOffset: -1)])
        let networks = report.networks.rows
        #expect(networks.count == 3)
        let backend = try #require(networks.first { $0.network.description == "3.95.112.0/24" })
        #expect(backend.addresses == 2 && backend.calls.total == 3 && !backend.isNew)
        #expect(backend.aws == .yes && backend.allowList == .yes)
        let otherEC2 = try #require(networks.first { $0.network.description == "3.88.19.0/24" })
        #expect(otherEC2.isNew && otherEC2.allowList == .no)
        #expect(networks.last?.network.description == "3.95.112.0/24", "the allowed network needs no look")
    }

    @Test func mixedNetworksArePartly() {
        #expect(Membership.of([.yes, .no]) == .partly)
        #expect(Membership.of([.yes, .yes]) == .yes)
        #expect(Membership.of([.no]) == .no)
        #expect(Membership.of([.yes, .unknown]) == .unknown)
    }

    @Test func marksSessionNamesAgainstTheNamingSchemes() throws {
        let report = report([assume(session: "vendor-scan-0a1b2c3d"), assume(session: "debug-session")])
        #expect(report.sessionNames.rows.map(\.name) == ["debug-session", "vendor-scan-0a1b2c3d"])
        #expect(report.sessionNames.rows.map(\.namingScheme) == [.no, .yes])
        var config = ExampleSite.config
        for index in config.roles.indices { config.roles[index].sessionNames = [] }
        let unknown = self.report([assume(session: "debug-session")], config: config)
        #expect(unknown.sessionNames.rows.first?.namingScheme == .unknown)
    }

    @Test func groupsRolesByTheirWatchedRoleInConfigOrder() {
        var config = ExampleSite.config
        config.roles.removeLast()  // ReportingReader: its calls are no longer watched
        let report = report(
            [
                assume(ExampleSite.customerRole("444455556666")), assume(ExampleSite.customerRole("777788889999")),
                assume(ExampleSite.outboundRole, by: F.scanner, session: "acme-backend-i-0a1b2c3d4e5f60718"),
                assume(ExampleSite.reportingRole, by: .iamUser(), session: "reports", hour: 3),
            ], config: config)
        #expect(
            report.watchedRoles.map(\.pattern) == [
                ExampleSite.outboundRole, "arn:aws:iam::*:role/AcmeIntegrationRole", nil,
            ])
        #expect(report.watchedRoles.map(\.hourly.calls.total) == [1, 2, 1])
        #expect(report.watchedRoles[2].hourly[3].total == 1)
        #expect(report.roles.rows.first { $0.arn == ExampleSite.reportingRole }?.watchedRole == nil)
    }

    @Test func unlistedRolesAreCountedUnderOtherRoles() {
        let events = (0...DayActivity.keyLimit).map { n in
            assume(ExampleSite.customerRole(String(100_000_000_000 + n)), hour: n % 24)
        }
        let report = report(events)
        #expect(report.roles.rows.count == DayActivity.keyLimit)
        #expect(report.roles.unlisted.total == 1)
        #expect(report.watchedRoles.last?.pattern == nil)
        #expect(report.watchedRoles.last?.hourly.calls.total == 1)
        #expect(report.hourly.calls.total == DayActivity.keyLimit + 1)
        #expect(report.hasUnlistedEntries)
    }

    @Test func newnessIsApproximateWhenTheDayBeforeOverflowed() {
        let before = (0...DayActivity.keyLimit).map { n in assume(session: "s-\(n)", hour: n % 24, dayOffset: -1) }
        let report = report([assume(session: "s-1")], previous: before)
        #expect(report.sessionNames.newnessIsApproximate)
        #expect(!report.callers.newnessIsApproximate)
    }

    @Test func ordersAlertsBySeverityThenTime() throws {
        let report = try F.incidentReport()
        #expect(!report.alerts.isEmpty)
        for (a, b) in zip(report.alerts, report.alerts.dropFirst()) {
            #expect(a.severity > b.severity || (a.severity == b.severity && a.time <= b.time))
        }
        #expect(report.alertsByRule.map(\.alerts).reduce(0, +) == report.alerts.count)
        #expect(report.alertsByRule.first?.severity == report.alerts.first?.severity)
        #expect(Set(report.alertsByRule.map(\.rule)) == Set(report.alerts.map(\.rule)))
        #expect(Severity.allCases.map(report.alertCount).reduce(0, +) == report.alerts.count)
    }
}
