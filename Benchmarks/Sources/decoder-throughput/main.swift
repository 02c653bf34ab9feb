// Throughput of each stage of the hot path on the same records, as a ratio to zlib inflate of
// those records measured in the same run: a regression in splitting or decoding shows here
// before it reaches the end-to-end figure. No assertion: the numbers are for people.
//
// Usage: decoder-throughput [ARCHIVE_DIR] [--megabytes N] [--rounds N]
// Without ARCHIVE_DIR a 100 MB archive is generated in a temporary folder.
import Foundation
import RoleWatchKit

struct Options {
    var archive: String?
    var megabytes = 100
    var rounds = 5

    init(_ arguments: [String]) {
        var rest = arguments.makeIterator()
        while let argument = rest.next() {
            switch argument {
            case "--megabytes": megabytes = Int(rest.next() ?? "") ?? megabytes
            case "--rounds": rounds = Int(rest.next() ?? "") ?? rounds
            default: archive = argument
            }
        }
    }
}

/// Median wall time of `rounds` runs of `body`, in seconds.
func median(_ rounds: Int, _ body: () throws -> Void) rethrows -> Double {
    var times: [Double] = []
    for _ in 0..<rounds {
        let start = ContinuousClock.now
        try body()
        let elapsed = ContinuousClock.now - start
        times.append(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }
    return times.sorted()[times.count / 2]
}

let options = Options(Array(CommandLine.arguments.dropFirst()))
var archive = options.archive ?? ""
if options.archive == nil {
    archive = NSTemporaryDirectory() + "rolewatch-decoder-bench"
    if !FileManager.default.fileExists(atPath: archive + "/AWSLogs") {
        var generatorOptions = ArchiveGenerator.Options(directory: archive)
        generatorOptions.targetBytes = options.megabytes * 1_000_000
        generatorOptions.story = false
        var generator = ArchiveGenerator(generatorOptions)
        _ = try generator.write()
    }
}
let files = TrailFiles.discover([archive]).files.map(\.path)
let reader = TrailFileReader()

// Inflate only: the floor every scanner pays.
var inflated: [[UInt8]] = []
var totalBytes = 0
for path in files {
    var bytes: [UInt8] = []
    _ = try reader.read(path: path) { bytes.append(contentsOf: $0) }
    totalBytes += bytes.count
    inflated.append(bytes)
}
let inflate = try median(options.rounds) {
    for path in files { _ = try reader.read(path: path) { _ in } }
}

// Split only, over the inflated bytes held in memory.
var records: [[UInt8]] = []
for file in inflated {
    var splitter = RecordSplitter()
    file.withUnsafeBytes { bytes in
        splitter.feed(bytes, record: { record, _ in records.append(Array(record)) }, problem: { _ in })
        splitter.finish(problem: { _ in })
    }
}
let split = median(options.rounds) {
    var count = 0
    for file in inflated {
        var splitter = RecordSplitter()
        file.withUnsafeBytes { bytes in
            splitter.feed(bytes, record: { _, _ in count += 1 }, problem: { _ in })
            splitter.finish(problem: { _ in })
        }
    }
    precondition(count == records.count)
}

// Decode only, over the records already split.
let decode = try median(options.rounds) {
    var kept = 0
    for record in records {
        try record.withUnsafeBytes { kept += try CloudTrailDecoder.decode($0).event.eventTime == nil ? 0 : 1 }
    }
    precondition(kept == records.count)
}

let megabytes = Double(totalBytes) / 1e6
print("\(files.count) files, \(records.count) records, \(String(format: "%.0f", megabytes)) MB of JSON; medians of \(options.rounds) rounds")
print("| stage | MB/s of JSON | time vs inflate |")
print("|---|---:|---:|")
for (name, seconds) in [("zlib inflate (baseline)", inflate), ("split records", split), ("decode records", decode)] {
    print("| \(name) | \(String(format: "%.0f", megabytes / seconds)) | \(String(format: "%.2f", seconds / inflate))x |")
}
