/// Reads one trail file record by record, with damage handled the one way a scan and a hunt
/// share: what precedes damage is used, the damage is noted with the file and offset, an
/// unfinished record counts as lost, and the file counts as damaged.
struct FileRecords {
    let path: String
    let reader: TrailFileReader
    let maxRecordBytes: Int
    /// Sees the file's descriptor once it is open (`TrailFileReader.read(path:opened:consume:)`).
    var opened: ((Int32) -> Void)? = nil

    /// Hands every complete record, with its offset in the decompressed stream, to `record`,
    /// which may add to the report (bad records, messages).
    func run(record: (UnsafeRawBufferPointer, Int, inout FileReport) -> Void) -> FileReport {
        run(record: record, element: { _, _, _ in nil })
    }

    /// Hands every record decoded as tokens (or why it could not be), with its bytes (the tokens
    /// and ranges in the decoded record are within them, and valid only during the call) and its
    /// offset in the decompressed stream, to `decoded`.
    ///
    /// A `Records` element whole in the chunk at hand is decoded straight from the chunk, the
    /// decoder finding its end (see `RecordSplitter.feed`); one cut by a chunk boundary, or one
    /// that does not decode there, is cut by the splitter and decoded again from its exact bytes,
    /// so a bad record is reported as if it had always been cut first.
    func run(
        decoded: (Result<DecodedTokens, RecordDecodingError>, UnsafeRawBufferPointer, Int, inout FileReport) -> Void
    ) -> FileReport {
        run(
            record: { bytes, offset, report in
                let result = Result { () throws(RecordDecodingError) in try CloudTrailDecoder.decodeTokens(bytes) }
                decoded(result, bytes, offset, &report)
            },
            element: { available, offset, report in
                guard let (record, length) = try? CloudTrailDecoder.decodeLeadingTokens(available) else { return nil }
                decoded(.success(record), UnsafeRawBufferPointer(rebasing: available[..<length]), offset, &report)
                return length
            })
    }

    private func run(
        record: (UnsafeRawBufferPointer, Int, inout FileReport) -> Void,
        element: (UnsafeRawBufferPointer, Int, inout FileReport) -> Int?
    ) -> FileReport {
        var report = FileReport(path: path)
        var splitter = RecordSplitter(maxRecordBytes: maxRecordBytes)
        func splitProblem(_ problem: SplitProblem) {
            report.damaged = true
            if problem.isAtEnd { report.incomplete = true }
            if problem.recordsLost { report.badRecords += 1 }
            report.note(problem.description)
        }
        do {
            let outcome = try reader.read(path: path, opened: opened) { chunk in
                splitter.feed(
                    chunk,
                    record: { bytes, offset in
                        report.records += 1
                        record(bytes, offset, &report)
                    },
                    element: { available, offset in
                        guard let length = element(available, offset, &report) else { return nil }
                        report.records += 1
                        return length
                    },
                    problem: splitProblem)
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
