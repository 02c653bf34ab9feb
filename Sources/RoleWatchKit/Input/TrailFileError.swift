/// Why a trail file could not be found or read to its end.
///
/// Offsets are byte offsets in the file as stored (the compressed bytes of a gzip file), counted from 0.
/// When reading stops with one of these, every byte decompressed before the damage has already been
/// delivered, so the records before it are used.
public enum TrailFileError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The path does not exist, is not readable, or reading it failed; `reason` is the system's error text
    /// and `offset` where in the file reading failed, if it got that far.
    case unreadable(path: String, offset: Int?, reason: String)
    /// The file has no bytes at all.
    case empty(path: String)
    /// The name ends in `.gz` but the content does not start with the gzip magic bytes `1f 8b`.
    case notGzip(path: String, found: [UInt8])
    /// The inflater rejected the compressed data at `offset`; `detail` says how (`invalid block`,
    /// `incorrect data check`, …).
    case corrupt(path: String, offset: Int, detail: String)
    /// The file ends at `offset` inside a gzip member.
    case truncated(path: String, offset: Int)
    /// After gzip member number `member` (from 1) ended, the byte at `offset` is neither the start of another
    /// member nor zero padding.
    case trailingData(path: String, offset: Int, member: Int)
    /// The inflater failed for a reason other than the data; `detail` is what it said.
    case inflate(path: String, offset: Int, detail: String)

    /// The file (or argument) the error is about.
    public var path: String {
        switch self {
        case .unreadable(let path, _, _), .empty(let path), .notGzip(let path, _), .corrupt(let path, _, _),
            .truncated(let path, _), .trailingData(let path, _, _), .inflate(let path, _, _):
            return path
        }
    }

    /// The file stops where more was due: what a file still being written looks like.
    public var isAtEnd: Bool {
        switch self {
        case .empty, .truncated: return true
        default: return false
        }
    }

    public var description: String {
        switch self {
        case .unreadable(let path, nil, let reason):
            return "cannot read \(PathBytes.display(path)): \(reason); check the path and its permissions"
        case .unreadable(let path, let offset?, let reason):
            return "cannot read \(PathBytes.display(path)) at offset \(offset): \(reason); check the disk or copy the file again"
        case .empty(let path):
            return "\(PathBytes.display(path)): empty file: it holds no records; if it was cut off while copying, copy it again"
        case .notGzip(let path, let found):
            let hex = found.map { ($0 < 0x10 ? "0" : "") + String($0, radix: 16) }.joined(separator: " ")
            return "\(PathBytes.display(path)): not gzip data (expected 1f 8b, found \(hex)) although the name ends in .gz; "
                + "rename it without .gz if it is plain JSON, or copy it again"
        case .corrupt(let path, let offset, let detail):
            return "\(PathBytes.display(path)): corrupt gzip data at compressed offset \(offset): \(detail); "
                + "the file is damaged, copy it again"
        case .truncated(let path, let offset):
            return "\(PathBytes.display(path)): ends before the end of the gzip stream at compressed offset \(offset): "
                + "file truncated or still being written; read it again once complete, or copy it again"
        case .trailingData(let path, let offset, let member):
            return "\(PathBytes.display(path)): unexpected data at compressed offset \(offset) after gzip member \(member) "
                + "(expected another member, zero padding or the end of the file); the file is damaged, copy it again"
        case .inflate(let path, let offset, let detail):
            return "\(PathBytes.display(path)): inflating failed at compressed offset \(offset): \(detail); copy the file again, and report it if it happens again"
        }
    }
}
