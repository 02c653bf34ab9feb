/// An ARN with optional `*` (any run of characters, including none) and `?` (one character)
/// wildcards, as in `arn:aws:iam::*:role/AcmeIntegrationRole`.
///
/// Matching is case-sensitive, like IAM role names and ARNs themselves.
public struct ARNPattern: Sendable, Hashable, CustomStringConvertible {
    public let text: String
    private let bytes: [UInt8]
    private let isLiteral: Bool

    public init(_ text: String) {
        self.text = text
        self.bytes = Array(text.utf8)
        self.isLiteral = !bytes.contains(UInt8(ascii: "*")) && !bytes.contains(UInt8(ascii: "?"))
    }

    public var description: String { text }

    public func matches(_ arn: String) -> Bool {
        if isLiteral { return arn == text }
        var arn = arn
        return arn.withUTF8 { glob(pattern: bytes[...], subject: $0) }
    }

    /// Iterative wildcard matching with single-star backtracking: linear in practice and
    /// never exponential, whatever the pattern.
    private func glob(pattern: ArraySlice<UInt8>, subject: UnsafeBufferPointer<UInt8>) -> Bool {
        var p = pattern.startIndex
        var s = 0
        var starP: Int? = nil
        var starS = 0
        while s < subject.count {
            if p < pattern.endIndex, pattern[p] == UInt8(ascii: "*") {
                starP = p
                starS = s
                p += 1
            } else if p < pattern.endIndex, pattern[p] == UInt8(ascii: "?") || pattern[p] == subject[s] {
                p += 1
                s += 1
            } else if let star = starP {
                p = star + 1
                starS += 1
                s = starS
            } else {
                return false
            }
        }
        while p < pattern.endIndex, pattern[p] == UInt8(ascii: "*") { p += 1 }
        return p == pattern.endIndex
    }
}

/// The pieces of an ARN that alerts and detectors use.
public enum ARN {
    /// The account field (`arn:aws:iam::111122223333:role/X` → `111122223333`).
    ///
    /// These helpers run for most events: they scan bytes and allocate only what they return.
    public static func account(_ arn: String) -> String? {
        let bytes = arn.utf8
        guard bytes.starts(with: "arn:".utf8) else { return nil }
        var colons = 0
        var fieldStart = bytes.startIndex
        var index = bytes.startIndex
        while index != bytes.endIndex {
            if bytes[index] == UInt8(ascii: ":") {
                colons += 1
                if colons == 5 { return fieldStart < index ? String(arn[fieldStart..<index]) : nil }
                fieldStart = bytes.index(after: index)
            }
            index = bytes.index(after: index)
        }
        return nil
    }

    /// The last path component of the resource (`…:role/path/Name` → `Name`,
    /// `…:assumed-role/Name/session` → `session`).
    public static func lastComponent(_ arn: String) -> String? {
        guard let range = lastComponentOffsets(arn) else { return nil }
        let bytes = arn.utf8
        return String(arn[bytes.index(bytes.startIndex, offsetBy: range.lowerBound)..<bytes.index(bytes.startIndex, offsetBy: range.upperBound)])
    }

    /// Whether the last path component (`lastComponent`) starts with `prefix`, without making it.
    static func lastComponent(_ arn: String, hasPrefix prefix: String) -> Bool {
        guard let range = lastComponentOffsets(arn) else { return false }
        return arn.utf8.dropFirst(range.lowerBound).prefix(range.count).starts(with: prefix.utf8)
    }

    /// Where `lastComponent` lies, in UTF-8 offsets, found on the bytes where they lie when the
    /// string is contiguous (it is asked of every event's ARNs).
    private static func lastComponentOffsets(_ arn: String) -> Range<Int>? {
        func find<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> Range<Int>? where Bytes.Index == Int {
            let slash = UInt8(ascii: "/")
            // The resource: after the fifth colon (it may hold colons of its own), or after the last.
            var start = bytes.startIndex
            var colons = 0
            var index = bytes.startIndex
            while index != bytes.endIndex, colons < 5 {
                if bytes[index] == UInt8(ascii: ":") {
                    colons += 1
                    start = index + 1
                }
                index += 1
            }
            var end = bytes.endIndex
            while end > start, bytes[end - 1] == slash { end -= 1 }
            guard end > start else { return nil }
            var from = end
            while from > start, bytes[from - 1] != slash { from -= 1 }
            return from..<end
        }
        return arn.utf8.withContiguousStorageIfAvailable(find) ?? find(Array(arn.utf8))
    }

    /// Whether the ARN is an assumed-role session's (`…:assumed-role/Role/session`).
    public static func isAssumedRole(_ arn: String) -> Bool { arn.containsBytes(":assumed-role/") }


    /// The role name of an `arn:aws:iam::<acct>:role/[path/]Name` or of an
    /// `arn:aws:sts::<acct>:assumed-role/Name/session` ARN.
    public static func roleName(_ arn: String) -> String? {
        guard let resource = arn.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false).last else {
            return nil
        }
        let parts = resource.split(separator: "/")
        if parts.first == "role" { return parts.last.map(String.init) }
        if parts.first == "assumed-role", parts.count >= 3 { return String(parts[1]) }
        return nil
    }
}
