#!/usr/bin/env python3
"""Writes a synthetic `aws iam get-account-authorization-details` export of N roles, for the
audit benchmark (`Benchmarks/run.sh --audit`). The same seed gives the same file.

The mix follows a busy AWS account: about half the roles are integration roles (trusted by
other accounts: a role with an ExternalId, an account root, an organisation account, the odd
wildcard or ...IfExists), the rest service, SSO and CI roles; each has one to three inline
policies of 4 to 40 actions (one in five URL-encoded, as the raw API returns them) and attaches
up to three of 120 customer managed and 12 AWS managed policies, whose documents (with a
non-default older version each) are in `Policies`.

    python3 Benchmarks/iam_export.py 5000 Benchmarks/.archives/iam-5000.json [--seed 7]
"""
import argparse
import json
import random
import urllib.parse

ACCOUNT = "111122223333"
SERVICES = ["s3", "ec2", "dynamodb", "lambda", "logs", "cloudwatch", "sqs", "sns", "kms", "secretsmanager", "ssm",
            "iam", "sts", "rds", "ecr", "ecs", "glue", "athena", "kinesis", "events"]
VERBS = ["Get", "List", "Describe", "Put", "Create", "Delete", "Update", "Tag", "Start", "Stop"]
NOUNS = ["Object", "Bucket", "Item", "Function", "Table", "Queue", "Topic", "Key", "Secret", "Parameter", "Stream",
         "Instance", "Snapshot", "Image", "Metric", "LogEvents", "Rule", "Role", "Policy"]
AWS_MANAGED = ["ReadOnlyAccess", "SecurityAudit", "AmazonS3ReadOnlyAccess", "CloudWatchReadOnlyAccess",
               "AmazonEC2ReadOnlyAccess", "AWSLambda_ReadOnlyAccess", "job-function/ViewOnlyAccess",
               "AmazonDynamoDBReadOnlyAccess", "AmazonSQSFullAccess", "PowerUserAccess",
               "service-role/AWSLambdaBasicExecutionRole", "AWSCloudTrail_ReadOnlyAccess"]


def action(rng):
    service = rng.choice(SERVICES)
    shape = rng.random()
    if shape < 0.1:
        return f"{service}:*"
    if shape < 0.35:
        return f"{service}:{rng.choice(VERBS)}*"
    return f"{service}:{rng.choice(VERBS)}{rng.choice(NOUNS)}"


def resource(rng, service):
    shape = rng.random()
    if shape < 0.4:
        return "*"
    if service == "s3":
        return f"arn:aws:s3:::acme-{rng.randrange(400)}-data/*"
    return f"arn:aws:{service}:us-east-1:{ACCOUNT}:{rng.choice(['table', 'function', 'secret', 'key', 'parameter'])}/app-{rng.randrange(999)}*"


def permission_policy(rng):
    statements = []
    for index in range(rng.randint(1, 4)):
        actions = sorted({action(rng) for _ in range(rng.randint(4, 10))})
        statement = {"Sid": f"S{index}", "Effect": "Allow", "Action": actions,
                     "Resource": [resource(rng, actions[0].split(":")[0]) for _ in range(rng.randint(1, 3))]}
        if rng.random() < 0.15:
            statement["Condition"] = {"StringEquals": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]}}
        statements.append(statement)
    if rng.random() < 0.2:
        statements.append({"Effect": "Deny", "Action": ["iam:*", "kms:Decrypt"], "Resource": "*"})
    return {"Version": "2012-10-17", "Statement": statements}


def trust_policy(rng, integration):
    if not integration:
        service = rng.choice(["ec2.amazonaws.com", "lambda.amazonaws.com", "ecs-tasks.amazonaws.com"])
        return {"Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]}
    vendor = f"{rng.randrange(10**11, 10**12):012d}"
    shape = rng.random()
    principal = {"AWS": f"arn:aws:iam::{vendor}:role/vendor-{rng.randrange(50)}"}
    condition = {"StringEquals": {"sts:ExternalId": f"{rng.getrandbits(64):016x}"}}
    if shape < 0.15:
        principal = {"AWS": f"arn:aws:iam::{vendor}:root"}
    elif shape < 0.25:
        condition = None
    elif shape < 0.3:
        condition = {"StringLike": {"sts:ExternalId": "*"}}
    elif shape < 0.35:
        condition = {"StringEqualsIfExists": {"sts:ExternalId": "x"}}
    elif shape < 0.4:
        principal = {"AWS": [f"arn:aws:iam::{vendor}:role/a", vendor]}
    statement = {"Effect": "Allow", "Principal": principal, "Action": ["sts:AssumeRole", "sts:TagSession"]}
    if condition:
        statement["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": [statement]}


def maybe_encoded(rng, document):
    if rng.random() < 0.2:
        return urllib.parse.quote(json.dumps(document, separators=(",", ":")), safe="")
    return document


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("roles", type=int)
    parser.add_argument("output")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    customer = [f"arn:aws:iam::{ACCOUNT}:policy/app-policy-{index}" for index in range(120)]
    aws = [f"arn:aws:iam::aws:policy/{name}" for name in AWS_MANAGED]
    policies = []
    for arn in customer + aws:
        versions = [{"Document": maybe_encoded(rng, permission_policy(rng)), "VersionId": "v2", "IsDefaultVersion": True,
                     "CreateDate": "2025-06-01T10:00:00+00:00"},
                    {"Document": maybe_encoded(rng, permission_policy(rng)), "VersionId": "v1",
                     "IsDefaultVersion": False, "CreateDate": "2024-06-01T10:00:00+00:00"}]
        policies.append({"PolicyName": arn.split("/")[-1], "PolicyId": f"ANPA{rng.getrandbits(64):016X}", "Arn": arn,
                         "Path": "/", "DefaultVersionId": "v2", "AttachmentCount": 1, "IsAttachable": True,
                         "CreateDate": "2024-06-01T10:00:00+00:00", "UpdateDate": "2025-06-01T10:00:00+00:00",
                         "PolicyVersionList": versions})
    roles = []
    for index in range(args.roles):
        integration = rng.random() < 0.5
        name = f"{'integration' if integration else 'app'}-role-{index:05d}"
        attached = rng.sample(customer, rng.randint(0, 2)) + (rng.sample(aws, 1) if rng.random() < 0.3 else [])
        day = rng.randrange(1, 29)
        role = {"Path": "/", "RoleName": name, "RoleId": f"AROA{rng.getrandbits(64):016X}",
                "Arn": f"arn:aws:iam::{ACCOUNT}:role/{name}", "CreateDate": f"2024-{rng.randrange(1, 13):02d}-{day:02d}T08:00:00+00:00",
                "AssumeRolePolicyDocument": maybe_encoded(rng, trust_policy(rng, integration)),
                "InstanceProfileList": [],
                "RolePolicyList": [{"PolicyName": f"inline-{n}", "PolicyDocument": maybe_encoded(rng, permission_policy(rng))}
                                   for n in range(rng.randint(1, 3))],
                "AttachedManagedPolicies": [{"PolicyName": arn.split("/")[-1], "PolicyArn": arn} for arn in attached],
                "Tags": [{"Key": "team", "Value": f"team-{rng.randrange(20)}"}],
                "RoleLastUsed": ({"LastUsedDate": f"2025-{rng.randrange(1, 12):02d}-{day:02d}T12:00:00+00:00",
                                  "Region": "us-east-1"} if rng.random() < 0.8 else {})}
        if rng.random() < 0.3:
            role["MaxSessionDuration"] = rng.choice([3600, 7200, 43200])
        roles.append(role)
    with open(args.output, "w") as out:
        json.dump({"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": roles, "Policies": policies}, out,
                  indent=4)
        out.write("\n")


if __name__ == "__main__":
    main()
