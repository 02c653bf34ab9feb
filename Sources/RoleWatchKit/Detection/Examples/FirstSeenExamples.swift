/// Examples the first-seen rules share: a third party's integration found in the trail (no site
/// config), whose collector assumes its role every hour with its ExternalId, from its one
/// network, with its SDK, through us-east-1. With `learning_period: 6h` the first six hours
/// teach and the rest are judged.
enum FirstSeenExamples {
    static let parameters = "learning_period: 6h"

    /// The collector's hourly calls, hours `hours`.
    static func routine(hours: ClosedRange<Int> = 0...7) -> [CloudTrailEvent] {
        hours.map { assume(hour: $0) }
    }

    /// One of the collector's calls at `hour` (and `minute`: a call beside the routine's must not
    /// share its event id), with what differs from its routine.
    static func assume(
        hour: Int, minute: Int = 0, caller: String = ExampleSite.thirdPartyCollector, ip: String = "3.94.10.20",
        externalId: String? = "acme-at-metrics-91f2", session: String = "metrics-collector-4f1a9c2e",
        userAgent: String = "aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5", region: String = "us-east-1"
    ) -> CloudTrailEvent {
        var event = ExampleEvent.assumeRole(
            by: .assumedRole(caller, session: "collector-7", key: "ASIACOLLECTOR000001", userAgent: userAgent),
            role: ExampleSite.thirdPartyRole, session: session, externalId: externalId, ip: ip, minute: hour * 60 + minute)
        event.awsRegion = region
        return event
    }

    /// A firing example: the routine, then the odd call at hour 8.
    static func firing(_ name: String, _ odd: CloudTrailEvent) -> DetectorExample {
        DetectorExample(name, config: .builtInDefault, parameters: parameters, events: routine() + [odd])
    }

    /// A quiet example: the routine with `extra` calls.
    static func quiet(_ name: String, _ extra: [CloudTrailEvent]) -> DetectorExample {
        DetectorExample(name, config: .builtInDefault, parameters: parameters, events: routine() + extra)
    }
}
