/// The cases of the `first-seen` shape: an organisation's trail (`OrganizationStory`) of which the
/// last two days hold what only a learned normal can tell: the integrations' roles assumed by a
/// new caller, from a new network, with a new client, through a new region, with a new session
/// name shape, without the ExternalId they always had; and decoys that a week of learning has
/// already seen, which must stay quiet.
///
/// Nothing is planted on the other days but the decoys' first sightings, so a scan of the
/// archive with no site config is scored on the last two days: every case caught, no decoy
/// hit, and what else fires there is noise.
enum FirstSeenStory {
    private typealias O = OrganizationStory

    /// The cases planted on day `index` (from 0) of `days`, the day starting at `day`.
    static func cases(on day: EventTime, index: Int, days: Int) -> [PlantedCase.Scripted] {
        let home = O.accounts[0]
        let prod = O.accounts[1]
        let at = { (h: Int, m: Int) in day + .seconds(Int64(h * 3600 + m * 60)) }
        let stamp = String(O.hourIndex(day))
        var cases: [PlantedCase.Scripted] = []
        func plant(_ name: String, _ rules: [String], _ events: [CloudTrailEvent]) {
            cases.append(
                PlantedCase.Scripted(
                    name: name, rules: rules, withoutConfig: true,
                    events: events.enumerated().map { n, event in
                        var event = event
                        event.eventID = StableHash.of("first-seen", name, stamp, String(n)).uuid
                        return SampleStory.Scripted(event: event)
                    }))
        }
        /// The metrics vendor's call at `time` on `account`'s role, as every 10 minutes but for
        /// what `change` alters.
        func metrics(
            _ account: OrganizationStory.Account, _ time: EventTime, caller: String = O.metricsVendor,
            ip: String = O.metricsEgress + ".11", externalId: String? = nil, session: String? = nil,
            change: (inout CloudTrailEvent) -> Void = { _ in }
        ) -> CloudTrailEvent {
            var event = O.vendorAssume(
                caller, role: O.metricsRole(account.id),
                session: session ?? "metrics-" + O.hex("first-seen-session", stamp, ISO8601.format(time)).prefix(8),
                externalId: externalId ?? "acme-\(account.id)", key: O.key("first-seen", stamp, ISO8601.format(time)),
                ip: ip, time: time, account: account)
            change(&event)
            return event
        }
        let decoyNetwork = "52.70.4.33"
        let patchedSDK = "aws-sdk-go-v2/1.32.7 os/linux lang/go#1.22.9 md/GOOS#linux md/GOARCH#amd64 api/sts#1.33.3"
        if index == 1 {
            // In the learning week: the metrics vendor's second egress, and a patched SDK.
            plant(
                "decoy: the metrics vendor's second egress, first used in the learning week", [],
                [metrics(prod, at(9, 7), ip: decoyNetwork)])
        }
        guard index >= days - 2 else { return cases }
        // The second day's cases are new again: what the first day showed is known by then.
        let second = index == days - 1
        let (one, other) = second ? (prod, home) : (home, prod)
        plant(
            "a new caller assumes the metrics vendor's integration role", ["first-seen-caller"],
            [metrics(one, at(2, 17), caller: "arn:aws:iam::777700001111:role/collector-\(second ? "ap" : "eu")")])
        plant(
            "the metrics vendor's integration role assumed from a home network", ["first-seen-network", "non-aws-ip"],
            [metrics(other, at(4, 27), ip: second ? "203.0.113.50" : "198.51.100.77")])
        plant(
            "the scanner's integration role assumed from another AWS network", ["first-seen-network"],
            [
                O.vendorAssume(
                    O.scannerVendor, role: O.scannerRole(one.id),
                    session: "audit-" + O.hex("first-seen-scan", stamp).prefix(8),
                    externalId: "scanner-" + O.hex("scanner-external", one.id).prefix(12),
                    key: O.key("first-seen-scan", stamp), ip: second ? "3.89.42.7" : "3.88.19.7", time: at(6, 44),
                    account: one)
            ])
        plant(
            "the metrics vendor's integration role assumed with the AWS CLI",
            ["first-seen-user-agent", "human-operator"],
            [metrics(one, at(8, 33)) { $0.userAgent = O.cliAgent }])
        // Only the home account has trails in several regions.
        plant(
            "the metrics vendor's integration role assumed through another region's STS", ["first-seen-region"],
            [metrics(home, at(11, 3)) { $0.awsRegion = second ? "eu-west-1" : "us-west-2" }])
        plant(
            "the metrics vendor's integration role assumed with an SDK's default session name",
            ["first-seen-session-name", "odd-session-name"],
            [metrics(other, at(13, 13), session: "botocore-session-\(day.milliseconds / 1000 + 48_000)")])
        plant(
            "the metrics vendor's integration role assumed without its ExternalId", ["first-seen-no-external-id"],
            [metrics(one, at(15, 23)) { $0.requestParameters.externalId = nil }])
        let customer = SampleStory.customers[second ? 1 : 0]
        let export = ExampleEvent.Caller.assumedRole(
            "arn:aws:iam::111122223333:role/\(second ? "BillingSync" : "DataExportJob")", session: "export-7",
            key: O.key("export", stamp))
        var acme = ExampleEvent.assumeRole(
            by: export, role: ExampleSite.customerRole(customer),
            session: "vendor-scan-" + O.hex("export", stamp).prefix(8), externalId: "acme-\(customer)",
            minute: Int((at(17, 9).milliseconds - ExampleEvent.start.milliseconds) / 60_000),
            key: O.key("export-issued", stamp))
        acme.recipientAccountId = customer
        plant("a new caller assumes Acme's integration role in a customer's account", ["first-seen-caller"], [acme])
        plant(
            "decoy: the metrics vendor's second egress again", [], [metrics(prod, at(19, 7), ip: decoyNetwork)])
        plant(
            "decoy: the metrics vendor's SDK, a patch release later", [],
            [metrics(home, at(20, 11)) { $0.userAgent = patchedSDK }])
        return cases
    }
}
