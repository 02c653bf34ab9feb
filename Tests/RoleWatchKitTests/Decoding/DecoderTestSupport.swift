import RoleWatchKit

/// Runs the decoder over `bytes`, returning its error as a value so tests can compare outcomes.
func decodeCloudTrailRecord(_ bytes: [UInt8]) -> Result<DecodedRecord, RecordDecodingError> {
    bytes.withUnsafeBytes { buffer in
        Result { () throws(RecordDecodingError) in try CloudTrailDecoder.decode(buffer) }
    }
}

func decodeCloudTrailRecord(_ text: String) -> Result<DecodedRecord, RecordDecodingError> {
    decodeCloudTrailRecord(Array(text.utf8))
}

extension Result<DecodedRecord, RecordDecodingError> {
    var decodedRecord: DecodedRecord? { try? get() }

    var decodingError: RecordDecodingError? {
        guard case .failure(let error) = self else { return nil }
        return error
    }
}
