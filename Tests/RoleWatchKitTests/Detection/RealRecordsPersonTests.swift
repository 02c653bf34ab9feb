import Foundation
import Testing

@testable import RoleWatchKit

/// People and workloads told apart on real records: the Stratus Red Team detonation logs and the
/// panther-analysis test events in `../shared/data` (skipped, with this reason, where that folder
/// is not checked out beside the repository).
struct RealRecordsPersonTests {
    static let folder: URL? = {
        var folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while folder.path != "/" {
            if FileManager.default.fileExists(atPath: folder.appendingPathComponent("Package.swift").path) {
                let shared = folder.appendingPathComponent("../shared/data").standardized
                return FileManager.default.fileExists(atPath: shared.appendingPathComponent("stratus-detonations").path)
                    ? shared : nil
            }
            folder.deleteLastPathComponent()
        }
        return nil
    }()

    /// Every record of the shared corpus, decoded as a scan decodes it.
    static func events() throws -> [CloudTrailEvent] {
        let folder = try #require(Self.folder)
        let stratus = folder.appendingPathComponent("stratus-detonations")
        let files =
            try FileManager.default.contentsOfDirectory(atPath: stratus.path).sorted().map {
                stratus.appendingPathComponent($0)
            } + [folder.appendingPathComponent("panther-cloudtrail-events.json")]
        var events: [CloudTrailEvent] = []
        for file in files {
            let root = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any])
            for record in try #require(root["Records"] as? [Any]) {
                let bytes = [UInt8](try JSONSerialization.data(withJSONObject: record))
                if let decoded = decodeCloudTrailRecord(bytes).decodedRecord { events.append(decoded.event) }
            }
        }
        return events
    }

    /// CI through OIDC, AWS services, and sessions AWS names by an instance or task are workloads,
    /// whatever tool they run; and the corpus's people (IAM users, root, SSO and federated
    /// sessions) are still people, so the check can fail.
    @Test(
        .enabled(
            if: folder != nil,
            "shared data folder not found next to the repository (../shared/data/stratus-detonations)"))
    func noPersonFlagOnCIOrServiceSessions() throws {
        let events = try Self.events()
        #expect(events.count > 700)
        var workloads = 0
        var people = 0
        for event in events {
            let identity = event.userIdentity
            let workload =
                identity.type == "AWSService" || identity.type == "WebIdentityUser"
                || event.eventName == "AssumeRoleWithWebIdentity"
                || event.callerSessionName.map(SessionNameShape.isWorkloadID) == true
            if workload {
                workloads += 1
                #expect(
                    !HumanSignals.isPerson(event),
                    "\(event.eventName ?? "") by \(event.callerARN) flagged as a person: \(HumanSignals.of(event))")
            }
            if ["IAMUser", "Root"].contains(identity.type) || identity.sessionIssuerArn?.contains("AWSReservedSSO_") == true {
                people += 1
                #expect(HumanSignals.isPerson(event), "\(event.callerARN) not seen as a person")
            }
        }
        #expect(workloads > 0 && people > 0)
    }

    /// With no config, the corpus (lab attacks by IAM users and their SDK sessions, no
    /// third-party integration) raises no alert about a person on an integration role.
    @Test(
        .enabled(
            if: folder != nil,
            "shared data folder not found next to the repository (../shared/data/stratus-detonations)"))
    func noHumanOperatorAlertWithoutAnIntegration() throws {
        let folder = try #require(Self.folder)
        let run = try ScanRun.run(
            [folder.appendingPathComponent("stratus-detonations").path], config: .builtInDefault,
            awsRanges: AWSIPRanges.builtIn)
        #expect(run.alerts.filter { $0.rule == "human-operator" }.isEmpty)
        #expect(run.summary.damagedFiles == 0)
    }
}
