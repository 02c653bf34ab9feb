import Foundation
import Testing

@testable import RoleWatchKit

/// The fuzzer's seeds (scripts/fuzz/corpus), checked as the fuzz target checks every input
/// (scripts/fuzz/SplitDecode.swift): the split does not depend on where the input is cut, and every
/// record decodes or is refused without harm. `scripts/fuzz.sh` goes much further.
struct FuzzCorpusTests {
    static let folder = SourceTree.root.appendingPathComponent("scripts/fuzz/corpus")
    static let seeds = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).sorted()

    @Test func thereAreSeeds() { #expect(Self.seeds.count >= 10) }

    @Test(arguments: seeds)
    func seedSplitsTheSameWhereverItIsCutAndDecodes(name: String) throws {
        let bytes = try [UInt8](Data(contentsOf: Self.folder.appendingPathComponent(name)))
        let whole = split(bytes, cut: nil)
        for cut in stride(from: 0, through: bytes.count, by: max(1, bytes.count / 97)) {
            let pieces = split(bytes, cut: cut)
            #expect(pieces.records == whole.records && pieces.problems == whole.problems, "cut at \(cut)")
        }
        for record in whole.records {
            record.withUnsafeBytes { raw in
                guard let decoded = try? CloudTrailDecoder.decode(raw) else { return }
                let evidence = EvidenceText.make(UnsafeRawBufferPointer(rebasing: raw[decoded.eventRange]))
                #expect(!evidence.contains("IQoJsecret"))
            }
        }
    }

    private func split(_ bytes: [UInt8], cut: Int?) -> (records: [[UInt8]], problems: [SplitProblem]) {
        var splitter = RecordSplitter(maxRecordBytes: 1 << 16)
        var records: [[UInt8]] = []
        var problems: [SplitProblem] = []
        bytes.withUnsafeBytes { input in
            for part in cut.map({ [0..<$0, $0..<input.count] }) ?? [0..<input.count] {
                splitter.feed(
                    UnsafeRawBufferPointer(rebasing: input[part]), record: { bytes, _ in records.append(Array(bytes)) },
                    problem: { problems.append($0) })
            }
        }
        splitter.finish { problems.append($0) }
        return (records, problems)
    }
}
