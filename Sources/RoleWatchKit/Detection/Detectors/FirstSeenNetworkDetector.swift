import Foundation

/// Fires when an integration role is assumed, or its sessions are used, from a network it has not
/// been seen in (or not for `forget_after`), once its learning period is over: stolen keys used
/// from the attacker's own place, learned per role without an allow-list.
///
/// A network is the source address masked to `location_prefix_ipv4`/`_ipv6` (/24 and /48 by
/// default), or, with an `asn_database`, the autonomous system of an address outside AWS (an
/// ISP's or a host's addresses change, its AS does not); AWS acting for the caller (`AWS
/// Internal`, a service's host name) is none. Addresses in `allowed_cidrs` (the role's or the
/// site's) are always normal.
public final class FirstSeenNetworkDetector: FirstSeenDetector {
    public static let id = "first-seen-network"
    let learner: FirstSeenLearner
    private let context: DetectionContext

    public init(rule: Rule, context: DetectionContext) throws(ConfigError) {
        self.context = context
        learner = try FirstSeenLearner(rule: rule, context: context)
    }

    public func observe(_ event: ObservedEvent, late: Bool, into findings: inout [Finding]) {
        let call = event.event
        let assumption = Self.isLearnedAssumption(event, late: late)
        // Calls made with the role's sessions. Without a config, only those of roles the trail has
        // shown to be integration roles by then: every call of every workload would otherwise wait
        // for the horizon (AssumeRole calls, far fewer, all wait, to be judged in any order).
        let sessionRole = event.sessionRole == nil || late || !call.succeeded ? nil : call.userIdentity.sessionIssuerArn
        let session = sessionRole.map { context.integrationRoles == nil || context.isIntegrationRole($0) } ?? false
        guard assumption || session, case .ip(let address) = event.origin.source else { return }
        let network: String
        if let lookup = context.asnLookup, lookup.isOutsideAWS(address),
            let system = lookup.autonomousSystem(of: address), let number = system.number
        {
            network = "AS\(number)" + (system.organization.map { " \($0)" } ?? "")
        } else {
            network = address.network(
                ipv4PrefixLength: context.config.locationPrefixV4, ipv6PrefixLength: context.config.locationPrefixV6
            ).description
        }
        func named(_ index: Int?) -> Bool {
            guard let role = context.role(index) else { return false }
            return (role.allowedCIDRs ?? context.config.allowedCIDRs).contains { $0.contains(address) }
        }
        if assumption { learner.observeAssumption(event, value: network, named: named(event.targetRole)) }
        if session, let role = sessionRole {
            learner.observe(
                event, role: role, value: network, named: named(event.sessionRole), principal: call.callerARN,
                sessionName: call.callerSessionName, accessKeyId: call.sessionKey, callerAccessKeyId: nil,
                accounts: call.recipientAccountId.map { [$0] } ?? [])
        }
    }

    func reasons(_ observation: FirstSeenObservation, known: [String]) -> [String] {
        [
            "\(observation.role) used from a network not seen before: \(observation.value) (\(observation.sourceIP ?? ""))",
            "known networks: \(FirstSeenLearner.listing(known))",
        ]
    }

    public static let examples: DetectorExamples = {
        DetectorExamples(
            firing: [
                FirstSeenExamples.firing(
                    "after learning, the role is assumed from another AWS network",
                    FirstSeenExamples.assume(hour: 8, ip: ExampleSite.otherEC2IP)),
                FirstSeenExamples.firing(
                    "after learning, the role is assumed from a home address",
                    FirstSeenExamples.assume(hour: 8, ip: ExampleSite.homeIP)),
                DetectorExample(
                    "after learning, a session of a configured integration role is used from a new network",
                    parameters: FirstSeenExamples.parameters,
                    events: (0...7).map { hour in
                        ExampleEvent.assumeRole(
                            by: .outbound(), role: ExampleSite.customerRole("444455556666"),
                            session: "vendor-scan-1a2b3c4d", minute: hour * 60)
                    } + [
                        ExampleEvent.call(
                            "GetObject", source: "s3.amazonaws.com", role: ExampleSite.customerRole("444455556666"),
                            session: "vendor-scan-1a2b3c4d", key: "ASIACUSTOMER0000009", ip: "203.0.113.9",
                            minute: 8 * 60 + 5)
                    ]),
            ],
            quiet: [
                FirstSeenExamples.quiet(
                    "another address in the known /24", [FirstSeenExamples.assume(hour: 8, ip: "3.94.10.77")]),
                FirstSeenExamples.quiet(
                    "a new network while the role is still learning",
                    [FirstSeenExamples.assume(hour: 3, ip: ExampleSite.otherEC2IP)]),
                FirstSeenExamples.quiet(
                    "AWS acting for the session is no network",
                    [
                        ExampleEvent.call(
                            "Decrypt", source: "kms.amazonaws.com", role: ExampleSite.thirdPartyRole,
                            session: "metrics-collector-4f1a9c2e", key: "ASIATHIRDPARTY00009", ip: "AWS Internal",
                            minute: 8 * 60 + 5)
                    ]),
                DetectorExample(
                    "a network on the site's allow-list",
                    parameters: "learning_period: 0s",
                    events: [
                        ExampleEvent.assumeRole(
                            by: .outbound(), role: ExampleSite.customerRole("444455556666"),
                            session: "vendor-scan-1a2b3c4d")
                    ]),
            ])
    }()
}
