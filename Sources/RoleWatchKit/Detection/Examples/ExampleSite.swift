import Foundation

/// The site detectors' examples run against: Acme, a SaaS vendor whose scanner instances
/// (role `AcmeScannerInstanceRole`) assume `IntegrationOutbound`, whose sessions in turn assume
/// each customer's `AcmeIntegrationRole` with an ExternalId. The same shape as `Samples/`.
public enum ExampleSite {
    public static let vendorAccount = "111122223333"
    public static let instanceRole = "arn:aws:iam::111122223333:role/AcmeScannerInstanceRole"
    public static let outboundRole = "arn:aws:iam::111122223333:role/IntegrationOutbound"
    public static let reportingRole = "arn:aws:iam::111122223333:role/ReportingReader"
    public static let reportingCaller = "arn:aws:iam::111122223333:role/ReportingLambdaRole"
    public static func customerRole(_ account: String) -> String { "arn:aws:iam::\(account):role/AcmeIntegrationRole" }

    /// A third-party vendor's collector (in the vendor's account) and the role Acme gave it, which
    /// it assumes with an ExternalId: what a trail shows of an integration when no config names it.
    public static let thirdPartyCollector = "arn:aws:iam::999988887777:role/MetricsCollector"
    public static let thirdPartyRole = "arn:aws:iam::111122223333:role/MetricsVendorIntegration"

    /// The collector assumes `thirdPartyRole` with its ExternalId (at `minute`, key `key`).
    public static func thirdPartyAssume(minute: Int = 0, key: String = "ASIATHIRDPARTY00001") -> CloudTrailEvent {
        ExampleEvent.assumeRole(
            by: .assumedRole(thirdPartyCollector, session: "collector-7", key: "ASIACOLLECTOR000001"),
            role: thirdPartyRole, session: "metrics-collector", externalId: "acme-at-metrics-91f2", ip: "3.94.10.20",
            minute: minute, key: key)
    }

    /// No roles named, Acme's own accounts listed: every role watched, the integrations found.
    public static let organizationConfig: SiteConfig = {
        do {
            return try SiteConfig.parse(
                "organization_accounts: ['111122223333', '210987654321']\n", path: "organization.yaml")
        } catch {
            preconditionFailure("the example organization config is invalid: \(error)")
        }
    }()

    /// The backend's NAT address, inside AWS and on the allow-list.
    public static let backendIP = "3.95.112.132"
    /// Inside AWS's ranges but not on the allow-list (someone else's EC2 instance).
    public static let otherEC2IP = "3.88.19.7"
    /// Outside AWS (a residential ISP address from the documentation range's neighbourhood).
    public static let homeIP = "198.51.100.23"

    public static let config: SiteConfig = {
        // Built from the same YAML a user writes, so the examples also exercise the parser.
        do {
            return try SiteConfig.parse(configYAML, path: "example-site.yaml")
        } catch {
            preconditionFailure("the example site config is invalid: \(error)")
        }
    }()

    /// The example site with more keys on the customer roles' entry (`regions: [eu-west-1]`…),
    /// for the rules those keys turn on.
    public static func config(customerRole extra: String) -> SiteConfig {
        let yaml = configYAML.replacingOccurrences(
            of: "    require_external_id: true\n", with: "    require_external_id: true\n    \(extra)\n")
        do {
            return try SiteConfig.parse(yaml, path: "example-site.yaml")
        } catch {
            preconditionFailure("the example site config with '\(extra)' is invalid: \(error)")
        }
    }

    static let configYAML = """
        allowed_cidrs: [3.95.112.0/24, 2600:1f18:45d5:d300::/56]
        roles:
          - arn: \(outboundRole)
            assumed_by: [\(instanceRole)]
            session_names: ['^acme-backend-i-[0-9a-f]{17}$']
          - arn: arn:aws:iam::*:role/AcmeIntegrationRole
            assumed_by: [\(outboundRole)]
            session_names: ['^vendor-scan-[0-9a-f]{8}$']
            require_external_id: true
          - arn: \(reportingRole)
            assumed_by: [\(reportingCaller)]
        """

    /// The scanner instances' own role, which only EC2 may assume (a service principal in `assumed_by`).
    public static let instanceRoleConfig: SiteConfig = {
        do {
            return try SiteConfig.parse(
                "roles:\n  - arn: \(instanceRole)\n    assumed_by: [ec2.amazonaws.com]\n", path: "instance-role.yaml")
        } catch {
            preconditionFailure("the example instance-role config is invalid: \(error)")
        }
    }()

    /// A few of AWS's real prefixes, in AWS's file format.
    public static let ipRangesJSON = """
        {"syncToken":"1732000000","createDate":"2024-11-20-22-13-07",
         "prefixes":[
          {"ip_prefix":"3.80.0.0/12","region":"us-east-1","service":"AMAZON","network_border_group":"us-east-1"},
          {"ip_prefix":"3.80.0.0/12","region":"us-east-1","service":"EC2","network_border_group":"us-east-1"},
          {"ip_prefix":"52.94.0.0/22","region":"us-east-1","service":"AMAZON","network_border_group":"us-east-1"},
          {"ip_prefix":"18.196.0.0/15","region":"eu-central-1","service":"EC2","network_border_group":"eu-central-1"}],
         "ipv6_prefixes":[
          {"ipv6_prefix":"2600:1f18::/33","region":"us-east-1","service":"EC2","network_border_group":"us-east-1"}]}
        """

    public static let awsRanges: AWSIPRanges = {
        do {
            return try AWSIPRanges(data: Data(ipRangesJSON.utf8), source: "example ip-ranges.json")
        } catch {
            preconditionFailure("the example ip ranges are invalid: \(error)")
        }
    }()
}
