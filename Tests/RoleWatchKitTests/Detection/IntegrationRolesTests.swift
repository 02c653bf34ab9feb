import Foundation
import Testing

@testable import RoleWatchKit

/// The integration roles a scan without a config finds in the trail, and the findings rules hold
/// until a role is shown to be one.
struct IntegrationRolesTests {
    @Test func anExternalIdHopFromAnotherAccountMarksBothEnds() {
        let roles = IntegrationRoles()
        roles.learn(ExampleSite.thirdPartyAssume())
        #expect(roles.sides == [ExampleSite.thirdPartyRole: .inbound, ExampleSite.thirdPartyCollector: .outbound])
    }

    @Test(arguments: [
        ("refused", ExampleEvent.assumeRole(
            by: .assumedRole(ExampleSite.thirdPartyCollector, session: "c", key: "ASIACOLLECTOR000001"),
            role: ExampleSite.thirdPartyRole, session: "c", externalId: "x", error: "AccessDenied")),
        ("without an ExternalId", ExampleEvent.assumeRole(
            by: .assumedRole(ExampleSite.thirdPartyCollector, session: "c", key: "ASIACOLLECTOR000001"),
            role: ExampleSite.thirdPartyRole, session: "c", externalId: nil)),
        ("within one account", ExampleEvent.assumeRole(
            by: .assumedRole("arn:aws:iam::111122223333:role/Job", session: "c", key: "ASIAJOB000000000001"),
            role: ExampleSite.thirdPartyRole, session: "c", externalId: "x")),
        ("by an AWS service", ExampleEvent.assumeRole(
            by: .awsService("lambda.amazonaws.com"), role: ExampleSite.thirdPartyRole, session: "c", externalId: "x",
            ip: "lambda.amazonaws.com")),
        ("between the organisation's accounts", ExampleEvent.assumeRole(
            by: .assumedRole("arn:aws:iam::210987654321:role/Deploy", session: "c", key: "ASIADEPLOY000000001"),
            role: ExampleSite.thirdPartyRole, session: "c", externalId: "x")),
    ] as [(String, CloudTrailEvent)])
    func noIntegration(_ what: String, event: CloudTrailEvent) {
        let roles = IntegrationRoles(organizationAccounts: ["111122223333", "210987654321"])
        roles.learn(event)
        #expect(roles.sides.isEmpty, "\(what)")
    }

    @Test func aPersonMarksTheRoleButNotTheirOwn() {
        let roles = IntegrationRoles()
        var person = ExampleEvent.assumeRole(
            by: .ssoUser(), role: "arn:aws:iam::444455556666:role/VendorRole", session: "alice@acme.example",
            externalId: "x", ip: ExampleSite.homeIP)
        person.recipientAccountId = "444455556666"
        roles.learn(person)
        #expect(roles.sides == ["arn:aws:iam::444455556666:role/VendorRole": .inbound])
    }

    static func finding(_ minute: Int, role: String) -> Finding {
        Finding(
            time: ExampleEvent.start + .seconds(Int64(minute) * 60), principal: "p", key: role, role: role,
            events: [EvidenceEvent(eventID: "e\(minute)", time: ExampleEvent.start, raw: "{}")], reasons: ["r"])
    }

    @Test func heldFindingsAreReleasedWhenTheRoleIsFoundAndForgottenADayLater() {
        let roles = IntegrationRoles()
        var awaiting = AwaitingIntegration()
        let role = ExampleSite.thirdPartyRole
        for minute in 0..<3 { awaiting.hold(Self.finding(minute, role: role), role: role) }
        awaiting.hold(Self.finding(0, role: "arn:aws:iam::111122223333:role/Other"), role: "arn:aws:iam::111122223333:role/Other")
        var released: [Finding] = []
        awaiting.release(from: roles, settled: ExampleEvent.start, into: &released)
        #expect(released.isEmpty)
        roles.learn(ExampleSite.thirdPartyAssume(minute: 30))
        awaiting.release(from: roles, settled: ExampleEvent.start + .seconds(3600), into: &released)
        #expect(released.map(\.role) == [role, role, role])

        // Held longer than a day behind the horizon: let go, not released when the role shows up.
        var late = AwaitingIntegration()
        let fresh = IntegrationRoles()
        late.hold(Self.finding(0, role: role), role: role)
        var none: [Finding] = []
        late.release(from: fresh, settled: ExampleEvent.start + .seconds(25 * 3600), into: &none)
        fresh.learn(ExampleSite.thirdPartyAssume())
        late.release(from: fresh, settled: ExampleEvent.start + .seconds(26 * 3600), into: &none)
        #expect(none.isEmpty)
    }

    @Test func heldFindingsAreBounded() {
        var awaiting = AwaitingIntegration()
        for n in 0..<(AwaitingIntegration.limit * 2) {
            let role = "arn:aws:iam::111122223333:role/R\(n / 10)"
            awaiting.hold(Self.finding(0, role: role), role: role)
        }
        for n in 0..<50 { awaiting.hold(Self.finding(n, role: "arn:aws:iam::1:role/One"), role: "arn:aws:iam::1:role/One") }
        // Every role found at once: what was held comes out, no more than the bound.
        let roles = IntegrationRoles()
        for n in 0..<(AwaitingIntegration.limit / 5) {
            var hop = ExampleSite.thirdPartyAssume()
            hop.requestParameters.roleArn = "arn:aws:iam::111122223333:role/R\(n)"
            roles.learn(hop)
        }
        var released: [Finding] = []
        awaiting.release(from: roles, settled: ExampleEvent.start, into: &released)
        #expect(released.count == AwaitingIntegration.limit)
    }
}
