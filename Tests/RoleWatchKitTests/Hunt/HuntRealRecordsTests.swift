import Foundation
import Testing

@testable import RoleWatchKit

/// The hunt on real records (`/work/shared/data/stratus-detonations`, Stratus Red Team's
/// detonation logs): a federation token issued to an IAM user and then used, and a user's
/// secret reads. Skipped where the shared data is absent.
struct HuntRealRecordsTests {
    static let folder = SourceTree.sharedData.appendingPathComponent("stratus-detonations").path

    static func hunt(_ file: String, key: String) throws -> HuntResult? {
        let path = folder + "/" + file
        guard FileManager.default.fileExists(atPath: path) else {
            print("skipped: \(path) is absent (the project machines' shared data)")
            return nil
        }
        return try SessionHunt(query: HuntQuery(accessKeys: [key]), options: HuntOptions(paths: [path]), say: { _ in })
            .run()
    }

    @Test func aFederationTokenIsADescendantOfTheUsersKey() throws {
        guard let result = try Self.hunt("aws.persistence.sts-federation-token.json", key: "AKIA6V1GNZTT65XQH36M")
        else {
            return
        }
        #expect(result.stories.map(\.accessKeyId) == ["AKIA6V1GNZTT65XQH36M", "ASIASTJKC5GCM7ZE6LUP"])
        let token = try #require(result.stories.last)
        #expect(token.parent == "AKIA6V1GNZTT65XQH36M")
        #expect(token.issuance?.action == "sts:GetFederationToken")
        #expect(token.issuance?.sessionName == "stratus_red_team")
        #expect(token.issuance?.sessionPolicy == true)
        #expect(token.actions.counts == ["sts:GetCallerIdentity": 1])
        #expect(result.stories.first?.children == ["ASIASTJKC5GCM7ZE6LUP"])
    }

    @Test func secretReadsListTheSecrets() throws {
        guard
            let result = try Self.hunt(
                "aws.credential-access.secretsmanager-retrieve-secrets.json", key: "AKIA1JMTHE9ZMZMWG0MG")
        else { return }
        let story = try #require(result.stories.first)
        #expect(result.stories.count == 1)
        #expect(story.calls == 21)
        #expect(story.actions.counts == ["secretsmanager:GetSecretValue": 20, "secretsmanager:ListSecrets": 1])
        #expect(story.listedResources.filter { $0.resource.kind == "secret" }.count == 20)
        #expect(story.reads == 21)
    }
}
