import Foundation
import Testing

@testable import RoleWatchKit

/// An archive as `aws s3 sync` leaves it, plus what people put next to one.
private let archive: [(name: String, bytes: Int)] = [
    (
        "AWSLogs/111122223333/CloudTrail/us-east-1/2024/05/01/111122223333_CloudTrail_us-east-1_20240501T1210Z_b.json.gz",
        10
    ),
    (
        "AWSLogs/111122223333/CloudTrail/us-east-1/2024/05/01/111122223333_CloudTrail_us-east-1_20240501T1205Z_a.json.gz",
        11
    ),
    (
        "AWSLogs/111122223333/CloudTrail/eu-west-1/2024/05/01/111122223333_CloudTrail_eu-west-1_20240501T1205Z_c.json.gz",
        12
    ),
    (
        "AWSLogs/o-abc123/444455556666/CloudTrail/eu-west-1/2024/04/30/444455556666_CloudTrail_eu-west-1_20240430T2355Z_d.json.gz",
        13
    ),
    (
        "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2024/05/01/111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_20240501T120000Z.json.gz",
        1
    ),
    ("digests/111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_20240501T130000Z.json.gz", 1),
    ("exports/athena.jsonl", 14),
    ("exports/Events.NDJSON.GZ", 15),
    ("exports/notes.txt", 1),
    ("exports/.DS_Store", 1),
    (".git/x.json", 1),
]

@Suite struct TrailFilesTests {
    @Test func archiveIsReadInDeliveryOrderWithSkipsAndProblemsReported() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        for (name, bytes) in archive {
            try directory.write(name, [UInt8](repeating: 0x20, count: bytes))
        }
        let root = directory.path
        let manager = FileManager.default
        try manager.createSymbolicLink(
            atPath: root + "/exports/copy.json", withDestinationPath: root + "/" + archive[0].name)
        try manager.createSymbolicLink(atPath: root + "/exports/loop", withDestinationPath: root)
        try manager.createSymbolicLink(atPath: root + "/exports/dangling.json", withDestinationPath: root + "/nowhere")

        let found = TrailFiles.discover([root + "/", root + "/missing"])

        #expect(
            found.files == [
                TrailFile(path: root + "/" + archive[3].name, size: 13, deliveryTime: "20240430T2355Z"),
                TrailFile(path: root + "/" + archive[2].name, size: 12, deliveryTime: "20240501T1205Z"),
                TrailFile(path: root + "/" + archive[1].name, size: 11, deliveryTime: "20240501T1205Z"),
                TrailFile(path: root + "/" + archive[0].name, size: 10, deliveryTime: "20240501T1210Z"),
                TrailFile(path: root + "/exports/Events.NDJSON.GZ", size: 15, deliveryTime: nil),
                TrailFile(path: root + "/exports/athena.jsonl", size: 14, deliveryTime: nil),
            ])
        #expect(found.totalBytes == 75)
        #expect(
            found.skipped == [
                SkippedPath(path: root + "/.git", reason: .hidden),
                SkippedPath(path: root + "/" + archive[4].name, reason: .digest),
                SkippedPath(path: root + "/" + archive[5].name, reason: .digest),
                SkippedPath(path: root + "/exports/.DS_Store", reason: .hidden),
                SkippedPath(path: root + "/exports/copy.json", reason: .duplicate(of: root + "/" + archive[0].name)),
                SkippedPath(path: root + "/exports/loop", reason: .duplicate(of: root + "/")),
                SkippedPath(path: root + "/exports/notes.txt", reason: .notTrailFile),
            ])
        #expect(found.skipped[1].description == root + "/" + archive[4].name + ": skipped: digest file")
        #expect(found.skipped[6].description == root + "/exports/notes.txt: skipped: not a trail file")
        #expect(found.skipped[4].reason.description == "duplicate")
        #expect(
            found.skipped[4].description
                == root + "/exports/copy.json: skipped: same file as " + root + "/" + archive[0].name)
        #expect(
            found.problems == [
                .unreadable(path: root + "/exports/dangling.json", offset: nil, reason: "no such file or directory"),
                .unreadable(path: root + "/missing", offset: nil, reason: "no such file or directory"),
            ])
        #expect(TrailFiles.discover([root]) == TrailFiles.discover([root]))
        #expect(TrailFiles.discover([root + "/", root + "/missing"], threads: 1) == found)
    }

    /// Folders listed ahead on every core are reached by the walk in its own order: a folder
    /// the listing reached first by another path (a link, a second argument) gives the same
    /// files, skips and problems as a walk that lists every folder itself.
    @Test func listingAheadFindsWhatTheWalkFinds() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        for account in ["111122223333", "444455556666"] {
            for day in ["01", "02"] {
                let folder = "AWSLogs/\(account)/CloudTrail/us-east-1/2024/05/\(day)"
                try directory.write(
                    "\(folder)/\(account)_CloudTrail_us-east-1_202405\(day)T0005Z_a.json.gz", [0x20])
                try directory.write("\(folder)/notes.txt", [0x20])
            }
        }
        let root = directory.path
        let manager = FileManager.default
        // A deep link into the other account, a link back up, a second path to one day.
        try manager.createSymbolicLink(
            atPath: root + "/AWSLogs/111122223333/other", withDestinationPath: root + "/AWSLogs/444455556666")
        try manager.createSymbolicLink(atPath: root + "/AWSLogs/444455556666/up", withDestinationPath: root + "/AWSLogs")
        try manager.createSymbolicLink(
            atPath: root + "/a-day", withDestinationPath: root + "/AWSLogs/444455556666/CloudTrail/us-east-1/2024/05/02")
        for arguments in [[root], [root + "/a-day", root], [root + "/AWSLogs/444455556666", root + "/AWSLogs"]] {
            let ahead = TrailFiles.discover(arguments, threads: 2)
            #expect(ahead == TrailFiles.discover(arguments, threads: 1))
            #expect(ahead.files.count == 4)
        }
    }

    /// A walk started on its own thread gives what a walk on the caller's thread gives, to
    /// every caller that waits for it, however often.
    @Test func walkStartedAheadFindsWhatAWalkInPlaceFinds() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        for (name, bytes) in archive { try directory.write(name, [UInt8](repeating: 0x20, count: bytes)) }
        let paths = [directory.path, directory.path + "/missing"]
        let ahead = TrailFiles.Ahead(paths, threads: 2)
        let inPlace = TrailFiles.discover(paths, threads: 2)
        #expect(ahead.paths == paths)
        #expect(ahead.wait() == inPlace)
        #expect(ahead.wait() == inPlace)
        #expect(inPlace.files.count == 6)
        #expect(!inPlace.problems.isEmpty)
    }

    @Test func fileArgumentsAreTakenWhateverTheirNameExceptDigests() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let notes = try directory.write("notes.txt", [0x7B, 0x7D])
        let digest = try directory.write(archive[5].name, [0x20])
        let found = TrailFiles.discover([notes, digest, notes])
        #expect(found.files == [TrailFile(path: notes, size: 2, deliveryTime: nil)])
        #expect(
            found.skipped == [
                SkippedPath(path: digest, reason: .digest),
                SkippedPath(path: notes, reason: .duplicate(of: notes)),
            ])
        #expect(found.problems.isEmpty)
    }

    @Test func deliveryTimeComesFromTheCloudTrailFileName() {
        #expect(
            TrailFiles.deliveryTime(inName: "111122223333_CloudTrail_us-east-1_20240501T1205Z_AbC.json.gz")
                == "20240501T1205Z")
        #expect(
            TrailFiles.deliveryTime(inName: "111122223333_CloudTrail-Insight_us-east-1_20240501T1205Z_x.json.gz")
                == "20240501T1205Z")
        #expect(TrailFiles.deliveryTime(inName: "111122223333_CloudTrail_us-east-1_20240501T1205_x.json.gz") == nil)
        #expect(TrailFiles.deliveryTime(inName: "111122223333_CloudTrail_us-east-1_2024050xT1205Z_x.json.gz") == nil)
        #expect(TrailFiles.deliveryTime(inName: "111122223333_Other_us-east-1_20240501T1205Z_x.json.gz") == nil)
        #expect(TrailFiles.deliveryTime(inName: "20240501T1205Z.json") == nil)
    }

    @Test func digestFilesAreKnownByDirectoryOrName() {
        #expect(TrailFiles.isDigest("AWSLogs/1/CloudTrail-Digest/us-east-1/2024/05/01/x.json.gz"))
        #expect(TrailFiles.isDigest("x/1_CloudTrail-Digest_us-east-1_t_us-east-1_20240501T120000Z.json.gz"))
        #expect(
            !TrailFiles.isDigest(
                "AWSLogs/1/CloudTrail/us-east-1/2024/05/01/1_CloudTrail_us-east-1_20240501T1205Z_a.json.gz"))
        #expect(!TrailFiles.isDigest("CloudTrail-Digest"))
    }
}
