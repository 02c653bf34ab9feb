@testable import RoleWatchKit

extension WatchList {
    /// The prefilter's answer for `event` as a trail writes it (`RecordWriter`), decoded as a
    /// scan decodes it: the prefilter looks at the record's tokens, not at a built event.
    func classify(_ event: CloudTrailEvent) -> (targetRole: Int?, sessionRole: Int?)? {
        Array(RecordWriter.json(event).utf8).withUnsafeBytes { bytes in
            guard let decoded = try? CloudTrailDecoder.decodeTokens(bytes) else {
                preconditionFailure("RecordWriter wrote a record the decoder refuses")
            }
            return classify(decoded.tokens)
        }
    }
}
