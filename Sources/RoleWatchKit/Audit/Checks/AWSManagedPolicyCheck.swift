/// `audit-aws-managed-policy`: an AWS managed policy (`arn:aws:iam::aws:policy/...`) is
/// attached to an integration role.
///
/// AWS managed policies are written for every customer at once, so they grant far more than
/// one integration needs (`ReadOnlyAccess` reads every S3 object and every secret's metadata),
/// and AWS adds actions to them without notice: what a third party can do changes without
/// anyone at the site deciding it.
struct AWSManagedPolicyCheck: AuditCheck {
    let rules: [AuditRule] = [.awsManagedPolicy]

    func findings(_ subject: RoleUnderAudit, _ context: AuditContext) -> [AuditFinding] {
        subject.role.attachedPolicies.filter { ManagedPolicy.isAWSManaged($0.arn) }.map { policy in
            AuditFinding(
                rule: rule, role: subject.role, detail: policy.arn,
                reason:
                    "the AWS managed policy \(policy.name) (\(policy.arn)) is attached; AWS changes what it grants without notice"
            )
        }
    }

    let examples: [AuditExample] = [
        AuditExample(
            name: "ReadOnlyAccess attached", fires: true,
            attached: [.init(arn: "arn:aws:iam::aws:policy/ReadOnlyAccess", document: nil)]),
        AuditExample(
            name: "a job-function policy", fires: true,
            attached: [.init(arn: "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess", document: nil)]),
        AuditExample(
            name: "a customer managed policy", fires: false,
            attached: [
                .init(
                    arn: "arn:aws:iam::111122223333:policy/VendorScanRead",
                    document: AuditExample.allow(#""ec2:DescribeInstances""#))
            ]),
    ]
}
