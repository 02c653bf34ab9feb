/// A role a check must fire on, or must stay quiet on: the check's documentation and its test
/// (`AuditExamplesTests` runs every check's examples through the whole audit).
///
/// Policies are written as the JSON they are in an export; the rest of the role is filled in
/// with quiet defaults, so an example shows only what it is about.
struct AuditExample: Sendable {
    var name: String
    var fires: Bool
    /// The rule it is about; nil: the check's main rule.
    var rule: AuditRule? = nil
    var trust: String = AuditExample.vendorTrust
    var inline: [String] = []
    /// Attached managed policies: ARN and default version's document (nil: not in the export).
    var attached: [Attached] = []
    /// The permissions boundary: ARN and default version's document (nil: not in the export).
    var boundary: Attached? = nil
    var maxSessionDuration: Int? = 3600
    /// `RoleLastUsed.LastUsedDate`; nil: `RoleLastUsed` without a date (never used).
    var lastUsed: String? = "2025-11-19T08:00:00Z"
    var createDate = "2024-01-15T10:00:00Z"
    /// Site config YAML; nil: none.
    var config: String? = nil
    var roleArn = AuditExample.roleArn

    struct Attached: Sendable {
        var arn: String
        var document: String?
    }

    static let roleArn = "arn:aws:iam::111122223333:role/ExampleIntegration"
    /// `--now` for every example.
    static let now = "2025-11-20T00:00:00Z"

    /// A vendor's role trusted the way it should be: one role of the vendor's account, with an ExternalId.
    static let vendorTrust = trust(
        #""AWS": "arn:aws:iam::999988887777:role/VendorScanner""#,
        condition: #"{"StringEquals": {"sts:ExternalId": "c1f9a0d2-5b7e-4e61-9a3c-2f0d8b6e4a17"}}"#)

    /// A trust policy of one Allow statement for `sts:AssumeRole`.
    static func trust(_ principal: String, condition: String? = nil) -> String {
        #"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {\#(principal)}, "Action": "sts:AssumeRole""#
            + (condition.map { #", "Condition": \#($0)"# } ?? "") + "}]}"
    }

    /// A permission policy of one Allow statement.
    static func allow(_ action: String, on resource: String = #""*""#, extra: String = "") -> String {
        #"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": \#(action), "Resource": \#(resource)}\#(extra)]}"#
    }

    /// The example as a one-role `get-account-authorization-details` export.
    var exportJSON: String {
        let name = roleArn.split(separator: "/").last.map(String.init) ?? "ExampleIntegration"
        var role = #"{"RoleName": "\#(name)", "Arn": "\#(roleArn)", "Path": "/", "CreateDate": "\#(createDate)", "#
        role += #""AssumeRolePolicyDocument": \#(trust), "RolePolicyList": ["#
        role += inline.enumerated().map { #"{"PolicyName": "inline-\#($0 + 1)", "PolicyDocument": \#($1)}"# }
            .joined(separator: ", ")
        role += #"], "AttachedManagedPolicies": ["#
        role += attached.map {
            #"{"PolicyName": "\#($0.arn.split(separator: "/").last ?? "")", "PolicyArn": "\#($0.arn)"}"#
        }
        .joined(separator: ", ")
        role += "]"
        if let boundary {
            role +=
                #", "PermissionsBoundary": {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": "\#(boundary.arn)"}"#
        }
        if let maxSessionDuration { role += #", "MaxSessionDuration": \#(maxSessionDuration)"# }
        role +=
            #", "RoleLastUsed": {"# + (lastUsed.map { #""LastUsedDate": "\#($0)", "Region": "us-east-1""# } ?? "")
            + "}}"
        let policies = (attached + (boundary.map { [$0] } ?? [])).compactMap { policy in
            policy.document.map { document in
                #"{"PolicyName": "\#(policy.arn.split(separator: "/").last ?? "")", "Arn": "\#(policy.arn)", "DefaultVersionId": "v1", "PolicyVersionList": [{"Document": \#(document), "VersionId": "v1", "IsDefaultVersion": true}]}"#
            }
        }
        return #"{"RoleDetailList": [\#(role)], "Policies": [\#(policies.joined(separator: ", "))]}"#
    }
}
