// A libFuzzer target for the code that reads what an adversary writes: the record splitter,
// the CloudTrail decoder and the evidence text. Built by scripts/fuzz.sh, which compiles these
// sources with it (no package dependencies), and run for a bounded time over scripts/fuzz/corpus.
//
// Besides crashes, sanitizer reports and hangs, it checks that the split does not depend on
// where the input is cut into chunks: the records fed whole and fed in two pieces must agree.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSplitAndDecode(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: start, count: count)
    let whole = records(input, cut: nil)
    let cut = count == 0 ? 0 : Int(input[0]) % (count + 1)
    let pieces = records(input, cut: cut)
    if whole.records != pieces.records || whole.problems != pieces.problems {
        fatalError("the split depends on where the input is cut (at \(cut) of \(count) bytes)")
    }
    for record in whole.records {
        record.withUnsafeBytes { bytes in
            guard let decoded = try? CloudTrailDecoder.decode(bytes) else { return }
            _ = EvidenceText.make(UnsafeRawBufferPointer(rebasing: bytes[decoded.eventRange]))
        }
    }
    return 0
}

private func records(_ input: UnsafeRawBufferPointer, cut: Int?) -> (records: [[UInt8]], problems: [SplitProblem]) {
    var splitter = RecordSplitter(maxRecordBytes: 1 << 16)
    var records: [[UInt8]] = []
    var problems: [SplitProblem] = []
    let parts = cut.map { [0..<$0, $0..<input.count] } ?? [0..<input.count]
    for part in parts {
        splitter.feed(
            UnsafeRawBufferPointer(rebasing: input[part]), record: { bytes, _ in records.append(Array(bytes)) },
            problem: { problems.append($0) })
    }
    splitter.finish { problems.append($0) }
    return (records, problems)
}
