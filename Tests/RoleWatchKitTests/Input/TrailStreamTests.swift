import Testing

@testable import RoleWatchKit

/// A file's stream (`<account>/<region>` in the S3 layout) is read from its path by bytes; it
/// must say what splitting the path into components says.
struct TrailStreamTests {
    /// The plain reading: the last `CloudTrail` component, an account of 12 digits before it,
    /// a region and at least one more component after it.
    static func bySplitting(_ path: String) -> (key: String, ordered: Bool) {
        let components = path.split(separator: "/")
        if let index = components.lastIndex(of: "CloudTrail"), index > 0, index + 1 < components.count - 1 {
            let account = components[index - 1]
            if account.count == 12, account.utf8.allSatisfy({ (48...57).contains($0) }) {
                return ("\(account)/\(components[index + 1])", true)
            }
        }
        return ("file:" + path, false)
    }

    static let paths = [
        "AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/20/111122223333_CloudTrail_us-east-1_20261120T0005Z_a.json.gz",
        "/data/AWSLogs/o-abc123/111122223333/CloudTrail/eu-west-1/2026/11/20/f.json.gz",
        "111122223333/CloudTrail/us-east-1/f.json.gz",
        "CloudTrail/us-east-1/2026/f.json.gz",
        "x/111122223333/CloudTrail/us-east-1",
        "x/111122223333/CloudTrail/us-east-1/",
        "x/111122223333/CloudTrail/us-east-1/f",
        "x//111122223333//CloudTrail//us-east-1//f.json",
        "x/11112222333/CloudTrail/us-east-1/f.json",
        "x/1111222233334/CloudTrail/us-east-1/f.json",
        "x/11112222333a/CloudTrail/us-east-1/f.json",
        "x/111122223333/CloudTrail/us-east-1/CloudTrail/f.json",
        "x/111122223333/CloudTrail/us-east-1/999988887777/CloudTrail/eu-west-1/f.json",
        "x/111122223333/CloudTrail/us-east-1/222233334444/CloudTrail/f.json",
        "x/111122223333/cloudtrail/us-east-1/f.json",
        "x/111122223333/CloudTrailX/us-east-1/f.json",
        "export.jsonl.gz",
        "",
        "/",
        "é/111122223333/CloudTrail/ü/f.json",
    ]

    @Test(arguments: paths)
    func bytesSayWhatComponentsSay(path: String) {
        let (key, ordered) = TrailFiles.stream(of: path)
        let expected = Self.bySplitting(path)
        #expect(key == expected.key && ordered == expected.ordered)
    }
}
