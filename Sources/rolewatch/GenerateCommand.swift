import ArgumentParser
import Foundation
import RoleWatchKit

struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Write a synthetic CloudTrail archive in the S3 layout (for demos, tests and benchmarks).",
        discussion: """
            Without --size-mb, writes the day that Samples/ holds: Acme's integration traffic with one case of every rule and decoys that must not fire (--days N: N such days). With --size-mb, adds background traffic up to about that many megabytes of uncompressed JSON, spread over as many hours as it takes to keep files at realistic sizes, with the cases on every whole day. The same seed gives the same archive.
            """
    )

    @Argument(help: ArgumentHelp("Folder that receives AWSLogs/.", valueName: "dir"))
    var directory: String

    @Option(name: .long, help: "Background traffic, in MB of uncompressed JSON.")
    var sizeMb: Int?

    @Option(name: .long, help: "Days of traffic, each with the planted cases (default 1, the sample day).")
    var days = 1

    @Option(
        name: .long,
        help: ArgumentHelp(
            "standard, small-files (1,000 accounts x 2 regions, files of 5-30 KB), many-sessions (see --customers), exports (one file per account) organization (an organisation's own workloads, people, CI and third-party integrations besides the vendor's traffic, with planted.json naming the planted cases) first-seen (the organisation's trails with cases only a learned normal can tell on the last two days, and decoys the first week saw: use --days 9) or incident (20 customers' trails and a stolen outbound session that assumes every customer's role from outside AWS and reads objects and secrets, with incident.json, its ground truth, for rolewatch hunt); with --size-mb.",
            valueName: "shape"))
    var shape: ArchiveGenerator.Shape = .standard

    @Option(name: .long, help: "Customers the vendor scans every hour (many-sessions: default 500).")
    var customers: Int?

    @Option(name: .long, help: "Random seed.")
    var seed: UInt64 = 20_251_120

    @Flag(name: .long, help: "Leave out the planted cases (background and normal traffic only).")
    var noStory = false

    func validate() throws {
        if let sizeMb, sizeMb < 1 || sizeMb > 1_000_000 {
            throw ValidationError("--size-mb must be between 1 and 1000000")
        }
        guard (1...366).contains(days) else { throw ValidationError("--days must be between 1 and 366") }
        if let customers, !(1...100_000).contains(customers) {
            throw ValidationError("--customers must be between 1 and 100000")
        }
    }

    func run() throws {
        var options = ArchiveGenerator.Options(directory: directory)
        options.seed = seed
        options.hours = days * 24
        options.targetBytes = sizeMb.map { $0 * 1_000_000 } ?? (shape == .standard ? nil : 500_000_000)
        options.shape = shape
        options.customers = customers ?? (shape == .manySessions ? 500 : nil)
        options.story = !noStory
        var generator = ArchiveGenerator(options)
        let summary = try generator.write()
        Diagnostics.say(
            "wrote \(summary.files) files, \(summary.records) records, "
                + String(
                    format: "%.1f MB (%.1f MB gzipped) under %@/AWSLogs", Double(summary.uncompressedBytes) / 1e6,
                    Double(summary.compressedBytes) / 1e6, directory))
    }
}

extension ArchiveGenerator.Shape: ExpressibleByArgument {}
