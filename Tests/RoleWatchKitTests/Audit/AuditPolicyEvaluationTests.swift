import Foundation
import Testing

@testable import RoleWatchKit

/// IAM's evaluation rules as the audit applies them: wildcards, principals, conditions.
struct AuditPolicyEvaluationTests {
    @Test func actionWildcardsMatchWithoutCase() {
        let pattern = IAMWildcard.action("s3:Get*")
        #expect(pattern.matches("s3:GetObject"))
        #expect(pattern.matches("S3:getobject"))
        #expect(!pattern.matches("s3:PutObject"))
        #expect(IAMWildcard.action("ec2:Describe?nstances").matches("ec2:DescribeInstances"))
        #expect(!IAMWildcard("arn:aws:s3:::Bucket/*", ignoringCase: false).matches("arn:aws:s3:::bucket/key"))
    }

    @Test func patternsOverlapInBothDirections() {
        let parameters = IAMWildcard.action("ssm:GetParameter*")
        #expect(IAMWildcard.action("ssm:Get*").overlaps(parameters))
        #expect(parameters.overlaps(IAMWildcard.action("ssm:GetParametersByPath")))
        #expect(IAMWildcard.action("*").overlaps(parameters))
        #expect(!IAMWildcard.action("ssm:Describe*").overlaps(parameters))
        #expect(!IAMWildcard.action("ssm:GetDocument").overlaps(parameters))
    }

    @Test func coveringIsContainment() {
        #expect(IAMWildcard.action("s3:*").covers(IAMWildcard.action("s3:Get*")))
        #expect(IAMWildcard.action("*").covers(IAMWildcard.action("iam:*")))
        #expect(!IAMWildcard.action("s3:Get*").covers(IAMWildcard.action("s3:*")))
        #expect(!IAMWildcard.action("iam:Get*").covers(IAMWildcard.action("iam:PassRole")))
        #expect(IAMWildcard.action("iam:Pass?ole").covers(IAMWildcard.action("iam:PassRole")))
    }

    /// Against brute force over every pattern of up to 3 symbols from `a`, `b`, `*`, `?` and
    /// every string of up to 6 letters (enough to hold a common string of two such patterns):
    /// `overlaps` is exact, `covers` never claims what is not so.
    @Test func overlapsAndCoversAgreeWithBruteForce() {
        func all(_ alphabet: [String], upTo length: Int) -> [String] {
            var result = [""]
            var last = [""]
            for _ in 0..<length {
                last = last.flatMap { prefix in alphabet.map { prefix + $0 } }
                result += last
            }
            return result
        }
        let patterns = all(["a", "b", "*", "?"], upTo: 3).map { IAMWildcard($0, ignoringCase: false) }
        let strings = all(["a", "b"], upTo: 6)
        let matched = patterns.map { pattern in Set(strings.filter(pattern.matches)) }
        for (i, a) in patterns.enumerated() {
            for (j, b) in patterns.enumerated() {
                let common = !matched[i].isDisjoint(with: matched[j])
                #expect(a.overlaps(b) == common, "\(a) overlaps \(b)")
                if a.covers(b) { #expect(matched[j].isSubset(of: matched[i]), "\(a) covers \(b)") }
            }
        }
    }

    @Test func notActionGrantsEverythingItsListDoesNotCover() throws {
        let document = try PolicyDocument.parse(
            #"{"Statement": {"Effect": "Allow", "NotAction": ["iam:*", "s3:Get*"], "Resource": "*"}}"#)
        let statement = document.statements[0]
        #expect(!statement.grantsSome(of: .action("iam:PassRole")))
        #expect(!statement.grantsSome(of: .action("s3:GetObject")))
        #expect(statement.grantsSome(of: .action("s3:PutObject")))
        #expect(statement.grantsSome(of: .action("kms:Decrypt")))
        #expect(!statement.grantsAll(of: .action("*")))
    }

    @Test func principalsInEveryForm() throws {
        let document = try PolicyDocument.parse(
            #"{"Statement": [{"Effect": "Allow", "Principal": {"AWS": ["123456789012", "arn:aws:iam::210987654321:root", "arn:aws:iam::444455556666:role/path/Scanner", "arn:aws:sts::444455556666:assumed-role/Scanner/s1", "AROA3X4MPLE0DELETED01"], "Service": "ec2.amazonaws.com", "Federated": ["cognito-identity.amazonaws.com"], "CanonicalUser": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"}, "Action": "sts:AssumeRole"}, {"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"}]}"#
        )
        let principals = document.statements[0].principal!.awsPrincipals
        #expect(principals[0] == .account("123456789012", written: "123456789012"))
        #expect(principals[1].account == "210987654321")
        if case .account = principals[1] {} else { Issue.record("root is the account") }
        #expect(principals[2] == .identity(account: "444455556666", arn: "arn:aws:iam::444455556666:role/path/Scanner"))
        #expect(principals[3].account == "444455556666")
        #expect(principals[4] == .unresolved("AROA3X4MPLE0DELETED01"))
        #expect(document.statements[0].principal!.service == ["ec2.amazonaws.com"])
        #expect(document.statements[0].principal!.federated == ["cognito-identity.amazonaws.com"])
        #expect(document.statements[0].principal!.canonicalUser.count == 1)
        #expect(document.statements[1].principal!.awsPrincipals == [.anyone])
    }

    @Test func aDenyWithNotPrincipalRefusesEveryoneElse() throws {
        let document = try PolicyDocument.parse(
            #"{"Statement": [{"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::999988887777:role/A", "arn:aws:iam::999988887777:role/B"]}, "Action": "sts:AssumeRole"}, {"Effect": "Deny", "NotPrincipal": {"AWS": "arn:aws:iam::999988887777:role/A"}, "Action": "sts:AssumeRole"}]}"#
        )
        #expect(document.assumeRoleGrants.map(\.principal.description) == ["arn:aws:iam::999988887777:role/A"])
    }

    @Test func urlEncodedDocumentsAreDecoded() throws {
        let json =
            #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999988887777:role/A"},"Action":"sts:AssumeRole"}]}"#
        let encoded = json.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        #expect(encoded.hasPrefix("%7B%22Version%22"))
        let document = try PolicyDocument.parse(encoded)
        #expect(document.assumeRoleGrants.count == 1)
        #expect(try PolicyDocument.parse(json).statements.count == 1)
    }

    @Test func percentDecodingIsRFC3986() {
        let decode = { (text: String) in
            PolicyDocument.percentDecoded(Array(text.utf8)).map { String(decoding: $0, as: UTF8.self) }
        }
        #expect(decode("%7B%22a%22%3A%22b+c%20d%C3%A9%22%7d") == #"{"a":"b+c dé"}"#)
        #expect(decode("100%") == nil)
        #expect(decode("%4") == nil)
        #expect(decode("%zz") == nil)
    }

    @Test func malformedDocumentsSayWhy() {
        #expect(throws: PolicyError.self) { try PolicyDocument.parse("%7B%22Statement%22%3A") }
        #expect(throws: PolicyError.self) {
            try PolicyDocument.parse(#"{"Statement": [{"Effect": "Permit", "Action": "*"}]}"#)
        }
        #expect(throws: PolicyError.self) { try PolicyDocument.parse(#"{"Statement": [{"Effect": "Allow"}]}"#) }
        #expect(throws: PolicyError.self) { try PolicyDocument.parse(#"{"Version": "2012-10-17"}"#) }
        #expect(throws: PolicyError.self) { try PolicyDocument.parse(#"["not", "an", "object"]"#) }
    }

    static func entry(_ op: String, _ values: [String]) -> ConditionEntry {
        ConditionEntry(operatorText: op, key: "sts:ExternalId", values: values)
    }

    @Test func missingKeysFollowIAMsRules() {
        #expect(Self.entry("StringEquals", ["x"]).evaluate(.absent) == .no)
        #expect(Self.entry("StringNotEquals", ["x"]).evaluate(.absent) == .yes)
        #expect(Self.entry("StringNotLike", ["x*"]).evaluate(.absent) == .yes)
        #expect(Self.entry("StringEqualsIfExists", ["x"]).evaluate(.absent) == .yes)
        #expect(Self.entry("ForAllValues:StringEquals", ["x"]).evaluate(.absent) == .yes)
        #expect(Self.entry("ForAnyValue:StringEquals", ["x"]).evaluate(.absent) == .no)
        #expect(Self.entry("Null", ["true"]).evaluate(.absent) == .yes)
        #expect(Self.entry("Null", ["false"]).evaluate(.absent) == .no)
    }

    @Test func presentKeysMatchValuesOrNot() {
        let value = ContextValue.values(["Acme-1"])
        #expect(Self.entry("StringEquals", ["x", "Acme-1"]).evaluate(value) == .yes)
        #expect(Self.entry("StringEquals", ["acme-1"]).evaluate(value) == .no)
        #expect(Self.entry("StringEqualsIgnoreCase", ["acme-1"]).evaluate(value) == .yes)
        #expect(Self.entry("StringNotEquals", ["x", "Acme-1"]).evaluate(value) == .no)
        #expect(Self.entry("StringLike", ["Acme-?"]).evaluate(value) == .yes)
        #expect(Self.entry("stringlike", ["Acme-*"]).evaluate(value) == .yes)
        #expect(Self.entry("Null", ["false"]).evaluate(value) == .yes)
        #expect(Self.entry("ForAllValues:StringEquals", ["Acme-1"]).evaluate(.values(["Acme-1", "b"])) == .no)
        #expect(Self.entry("ForAnyValue:StringEquals", ["b"]).evaluate(.values(["Acme-1", "b"])) == .yes)
    }

    @Test func whatCannotBeKnownStaysUnknown() {
        #expect(Self.entry("StringEqualz", ["x"]).operator == nil)
        #expect(Self.entry("StringEqualz", ["x"]).evaluate(.absent) == .unknown)
        #expect(Self.entry("NullIfExists", ["true"]).operator == nil)
        #expect(Self.entry("NumericLessThan", ["10"]).evaluate(.values(["5"])) == .unknown)
        #expect(Self.entry("StringEquals", ["x"]).evaluate(nil) == .unknown)
        #expect((Truth.unknown && .no) == .no)
        #expect((Truth.unknown || .yes) == .yes)
        #expect((Truth.unknown && .yes) == .unknown)
    }

    @Test func everyResourceIsWildcardsOnly() {
        for wide in [
            "*", "arn:aws:s3:::*", "arn:aws:s3:::*/*", "arn:aws:iam::*:role/*", "arn:aws:secretsmanager:*:*:secret:*",
            "arn:aws:ssm:us-east-1:111122223333:parameter/*", "arn:aws:lambda:*:111122223333:function:*",
        ] {
            #expect(BroadPermissionCheck.isEveryResource(wide), "\(wide)")
        }
        for narrow in [
            "arn:aws:s3:::acme-results/*", "arn:aws:iam::*:role/AcmeIntegrationRole",
            "arn:aws:secretsmanager:*:*:secret:scan/*", "arn:aws:kms:us-east-1:111122223333:key/0c7e4a52",
        ] {
            #expect(!BroadPermissionCheck.isEveryResource(narrow), "\(narrow)")
        }
    }
}
