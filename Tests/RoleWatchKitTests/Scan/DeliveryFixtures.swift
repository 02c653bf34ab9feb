import Foundation

@testable import RoleWatchKit

/// A generated two-day archive (three trail accounts, the planted cases on both days) and its
/// files' records, for tests that rearrange how the same events arrive.
enum DeliveryArchive {
    /// A file of the archive: where it sits under `AWSLogs/`, and its records as written.
    struct File {
        var relativePath: String
        var records: [String]

        var account: String { TrailFiles.stream(of: relativePath).key.split(separator: "/").first.map(String.init) ?? "" }
        var deliveryTime: String { TrailFiles.entry(relativePath, size: 0).deliveryTime ?? "" }
    }

    /// Made once per test run, in a folder of its own; never changed by the tests.
    static let root: String = {
        let directory = try! TemporaryDirectory.forTheRun()
        var options = ArchiveGenerator.Options(directory: directory.path)
        options.hours = 48
        var generator = ArchiveGenerator(options)
        _ = try! generator.write()
        return directory.path
    }()

    static var logs: String { root + "/AWSLogs" }

    static let files: [File] = TrailFiles.discover([logs]).files.map { file in
        File(relativePath: String(file.path.dropFirst(logs.count + 1)), records: records(in: file.path))
    }

    /// The records of one file, as the splitter cuts them.
    static func records(in path: String) -> [String] {
        var splitter = RecordSplitter()
        var records: [String] = []
        _ = try! TrailFileReader().read(path: path) { chunk in
            splitter.feed(chunk, record: { bytes, _ in records.append(String(decoding: bytes, as: UTF8.self)) }, problem: { _ in })
        }
        splitter.finish { _ in }
        return records
    }

    /// The batch scan of the archive as it is: what every other arrangement must give.
    static let expected: [String] = try! lines(of: ScanRun.run([logs], threads: 2).alerts)

    static func lines(of alerts: [Alert]) -> [String] { alerts.map { $0.json() }.sorted() }

    /// `scan --state` of `paths` with the sample site config, as `ScanRun.run` scans without state.
    static func stateScan(_ paths: [String], state: String, output: String) throws -> ScanSummary {
        let site = try SiteConfig.load(path: SourceTree.root.appendingPathComponent("Samples/rolewatch.yaml").path)
        let journal = try StateJournal(store: try StateStore(path: state), outputPath: output, say: { _ in })
        return try TrailScan(
            config: site, rules: try RuleSet.builtIn(),
            awsRanges: try site.awsIPRangesPath.map { try AWSIPRanges.load(contentsOf: $0) },
            options: ScanOptions(paths: paths, threads: 2), journal: journal, say: { _ in }
        ).run()
    }

    /// Writes `files` under `directory` as `{"Records":[...]}` files, gzipped when named so.
    static func write(_ files: [File], under directory: String) throws {
        for file in files {
            let path = directory + "/" + file.relativePath
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            let body = Array(("{\"Records\":[" + file.records.joined(separator: ",") + "]}").utf8)
            try Data(path.hasSuffix(".gz") ? try Gzip.compress(body) : body).write(to: URL(fileURLWithPath: path))
        }
    }

    /// `files` with their records regrouped: runs of consecutive files of one stream merged into
    /// one file (named after the last of them), others split in two (the same delivery time, two
    /// names), records in each new file shuffled; the S3 layout kept.
    static func regrouped(_ files: [File], using generator: inout SplitMix64) -> [File] {
        var streams: [String: [File]] = [:]
        for file in files { streams[TrailFiles.stream(of: file.relativePath).key, default: []].append(file) }
        var result: [File] = []
        for key in streams.keys.sorted() {
            var queue = streams[key]!.sorted { $0.deliveryTime < $1.deliveryTime }[...]
            while let first = queue.popFirst() {
                switch generator.next() % 3 {
                case 0 where !queue.isEmpty:
                    var merged = first
                    for _ in 0..<Int(1 + generator.next() % 3) {
                        guard let next = queue.popFirst() else { break }
                        merged = File(relativePath: next.relativePath, records: merged.records + next.records)
                    }
                    merged.records.shuffle(using: &generator)
                    result.append(merged)
                case 1 where first.records.count > 1:
                    let cut = Int(generator.next() % UInt64(first.records.count - 1)) + 1
                    var records = first.records
                    records.shuffle(using: &generator)
                    result.append(File(relativePath: first.relativePath, records: Array(records[..<cut])))
                    result.append(File(relativePath: renamed(first.relativePath, "SPLIT"), records: Array(records[cut...])))
                default:
                    result.append(first)
                }
            }
        }
        return result
    }

    /// The same file delivered again: the name's unique part changed.
    static func renamed(_ path: String, _ tag: String) -> String {
        var parts = path.split(separator: "_", omittingEmptySubsequences: false).map(String.init)
        parts[parts.count - 1] = tag + parts[parts.count - 1].dropFirst(tag.count)
        return parts.joined(separator: "_")
    }

    /// One file per account with every record of it in a shuffled order, as a CloudTrail Lake
    /// or Athena export gives them (no delivery time in the name).
    static func exports(_ files: [File], using generator: inout SplitMix64) -> [File] {
        var accounts: [String: [String]] = [:]
        for file in files { accounts[file.account, default: []] += file.records }
        return accounts.keys.sorted().map { account in
            File(relativePath: "export-\(account).json", records: accounts[account]!.shuffled(using: &generator))
        }
    }
}
