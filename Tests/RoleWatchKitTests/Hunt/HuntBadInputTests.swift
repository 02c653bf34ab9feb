import Foundation
import Testing

@testable import RoleWatchKit

/// Bad input in a hunt is handled as in `scan`: a damaged file is named with where it broke,
/// counted, and the rest used; the CLI exits 3. A hunt that matches nothing says so and exits 0.
struct HuntBadInputTests {
    /// A copy of the sample day with the file holding the 09:40 call from home cut in half.
    static func damagedSample() throws -> (directory: TemporaryDirectory, damaged: String) {
        let directory = try TemporaryDirectory()
        try FileManager.default.copyItem(atPath: HuntSampleTests.samplePath, toPath: directory.path + "/AWSLogs")
        let files = TrailFiles.discover([directory.path + "/AWSLogs"]).files.map(\.path)
        let damaged = try #require(files.first { $0.contains("444455556666_CloudTrail_us-east-1_20251120T0945Z") })
        let bytes = try Data(contentsOf: URL(fileURLWithPath: damaged))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: damaged))
        return (directory, damaged)
    }

    @Test func aDamagedFileIsNamedCountedAndTheRestUsed() throws {
        let (directory, damaged) = try Self.damagedSample()
        defer { directory.remove() }
        let said = Said()
        let result = try SessionHunt(
            query: HuntQuery(accessKeys: [HuntSampleTests.homeKey]),
            options: HuntOptions(paths: [directory.path + "/AWSLogs"], threads: 2), say: { said.add($0) }
        ).run()
        #expect(result.summary.reading.damagedFiles == 1)
        #expect(result.summary.inputDamaged)
        #expect(said.lines.contains { $0.hasPrefix("error: ") && $0.contains(damaged) && $0.contains("offset") })
        // The session is still found from the other files.
        #expect(result.stories.map(\.accessKeyId) == [HuntSampleTests.homeKey])
    }

    @Test func theCommandExitsThreeOnDamagedInput() throws {
        let (directory, damaged) = try Self.damagedSample()
        defer { directory.remove() }
        let run = try CommandTests.run(["hunt", directory.path + "/AWSLogs", "--access-key", HuntSampleTests.homeKey])
        #expect(run.status == 3)
        #expect(run.stderr.contains(damaged))
        #expect(run.stderr.contains("1 damaged files"))
        #expect(run.stdout.split(separator: "\n").count == 1)
    }

    @Test func aPrincipalMatchingNothingSaysSoAndExitsZero() throws {
        let run = try CommandTests.run([
            "hunt", "Samples/AWSLogs", "--principal", "arn:aws:iam::999999999999:role/Nobody",
        ])
        #expect(run.status == 0)
        #expect(run.stdout.isEmpty)
        #expect(
            run.stderr.contains("rolewatch: note: no session matched principal arn:aws:iam::999999999999:role/Nobody"))
    }

    @Test func huntingNothingIsAUsageError() throws {
        let run = try CommandTests.run(["hunt", "Samples/AWSLogs"])
        #expect(run.status == 2)
        #expect(run.stderr.contains("--principal, --access-key or --source-ip"))
    }

    @Test func aSessionTokenNeverReachesTheOutput() throws {
        for format in ["ndjson", "markdown", "html"] {
            let run = try CommandTests.run([
                "hunt", "Samples/AWSLogs", "--access-key", SampleStory.outboundKey(hour: 9), "--format", format,
            ])
            #expect(run.status == 0)
            #expect(run.stdout.contains(SampleStory.outboundKey(hour: 9)))
            #expect(!run.stdout.contains("IQoJb3JpZ2luX2VjE"))
            #expect(!run.stdout.contains("sessionToken"))
        }
    }
}

/// Lines said by a run, from any thread.
final class Said: @unchecked Sendable {
    private let lock = NSLock()
    private var said: [String] = []

    func add(_ line: String) { lock.withLock { said.append(line) } }
    var lines: [String] { lock.withLock { said } }
}
