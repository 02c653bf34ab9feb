/// Reads one trail file record by record, with damage handled the one way a scan and a hunt
/// share: what precedes damage is used, the damage is noted with the file and offset, an
/// unfinished record counts as lost, and the file counts as damaged.
struct FileRecords {
    let path: String
    let reader: TrailFileReader
    let maxRecordBytes: Int

    /// Hands every complete record, with its offset in the decompressed stream, to `record`,
    /// which may add to the report (bad records, messages).
    func run(record: (UnsafeRawBufferPointer, Int, inout FileReport) -> Void) -> FileReport {
        var report = FileReport(path: path)
        var splitter = RecordSplitter(maxRecordBytes: maxRecordBytes)
        func splitProblem(_ problem: SplitProblem) {
            report.damaged = true
            if problem.isAtEnd { report.incomplete = true }
            if problem.recordsLost { report.badRecords += 1 }
            report.note(problem.description)
        }
        do {
            let outcome = try reader.read(path: path) { chunk in
                splitter.feed(
                    chunk,
                    record: { bytes, offset in
                        report.records += 1
                        record(bytes, offset, &report)
                    }, problem: splitProblem)
            }
            splitter.finish(problem: splitProblem)
            report.compressedBytes = outcome.fileBytes
            report.decompressedBytes = outcome.decompressedBytes
        } catch let error as TrailFileError {
            // Records before the damage were handed over; an unfinished one is reported as lost.
            splitter.finish { problem in
                if problem.recordsLost { report.badRecords += 1 }
            }
            report.damaged = true
            if error.isAtEnd { report.incomplete = true }
            report.note(error.description)
        } catch {
            report.damaged = true
            report.note("cannot read: \(error)")
        }
        return report
    }
}

extension FileReport {
    /// Keeps a message, or counts it past `FileScan.messageLimit`.
    mutating func note(_ message: String) {
        if messages.count < FileScan.messageLimit {
            messages.append(message)
        } else {
            suppressedMessages += 1
        }
    }
}
