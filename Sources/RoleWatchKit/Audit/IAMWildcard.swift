/// IAM's wildcard patterns (`*`: any run of characters, `?`: one character), as `Action`,
/// `NotAction`, `Resource` and the `...Like` condition operators use them.
///
/// Actions compare without case (`S3:getobject` is `s3:GetObject`); resources and condition
/// values with case. Besides matching a concrete string, the audit asks questions of two
/// patterns at once, because the actions it looks for are patterns too (`ssm:GetParameter*`):
/// whether they have a string in common (`s3:Get*` and `s3:GetObject`), and whether one covers
/// every string of the other (`s3:*` covers `s3:Get*`, which a `Deny` must do to take a grant away).
/// Both are dynamic programmes over the two patterns, quadratic in their lengths (which are short).
struct IAMWildcard: Sendable, Hashable, CustomStringConvertible {
    let text: String
    let ignoresCase: Bool
    private let symbols: [UInt8]
    /// How many symbols come before the first wildcard: two patterns that differ there have no
    /// string in common, which settles most pairs (`s3:...` against `iam:...`) without the
    /// dynamic programme.
    private let literalPrefix: Int

    init(_ text: String, ignoringCase: Bool) {
        self.text = text
        self.ignoresCase = ignoringCase
        let bytes = Array(text.utf8)
        symbols = ignoringCase ? bytes.map(Self.lowered) : bytes
        literalPrefix = symbols.firstIndex { $0 == Self.star || $0 == Self.question } ?? symbols.count
    }

    /// False when the literal prefixes disagree: then neither pattern can overlap or cover the other.
    private func prefixesAgree(_ b: [UInt8], _ otherPrefix: Int) -> Bool {
        let shared = Swift.min(literalPrefix, otherPrefix)
        for index in 0..<shared where symbols[index] != b[index] { return false }
        return true
    }

    static func action(_ text: String) -> IAMWildcard { IAMWildcard(text, ignoringCase: true) }

    var description: String { text }
    var hasWildcard: Bool { symbols.contains(Self.star) || symbols.contains(Self.question) }

    /// Whether this pattern matches the concrete string `subject` (wildcards in `subject` are
    /// plain characters).
    func matches(_ subject: String) -> Bool {
        let subject = Array(subject.utf8).map { ignoresCase ? Self.lowered($0) : $0 }
        // Iterative matching with single-star backtracking: never exponential.
        var p = 0
        var s = 0
        var starP = -1
        var starS = 0
        while s < subject.count {
            if p < symbols.count, symbols[p] == Self.star {
                starP = p
                starS = s
                p += 1
            } else if p < symbols.count, symbols[p] == Self.question || symbols[p] == subject[s] {
                p += 1
                s += 1
            } else if starP >= 0 {
                p = starP + 1
                starS += 1
                s = starS
            } else {
                return false
            }
        }
        while p < symbols.count, symbols[p] == Self.star { p += 1 }
        return p == symbols.count
    }

    /// Whether some string matches both patterns.
    func overlaps(_ other: IAMWildcard) -> Bool {
        let a = symbols
        let b = ignoresCase != other.ignoresCase ? other.symbols.map(Self.lowered) : other.symbols
        guard prefixesAgree(b, other.literalPrefix) else { return false }
        var memo = [Int8](repeating: -1, count: (a.count + 1) * (b.count + 1))
        func go(_ i: Int, _ j: Int) -> Bool {
            let slot = i * (b.count + 1) + j
            if memo[slot] >= 0 { return memo[slot] == 1 }
            let result: Bool
            if i == a.count && j == b.count {
                result = true
            } else if i < a.count && a[i] == Self.star {
                result = go(i + 1, j) || (j < b.count && go(i, j + 1))
            } else if j < b.count && b[j] == Self.star {
                result = go(i, j + 1) || (i < a.count && go(i + 1, j))
            } else if i == a.count || j == b.count {
                result = false
            } else {
                result = (a[i] == Self.question || b[j] == Self.question || a[i] == b[j]) && go(i + 1, j + 1)
            }
            memo[slot] = result ? 1 : 0
            return result
        }
        return go(0, 0)
    }

    /// Whether every string `other` matches, this pattern matches too. Sound (a true answer is
    /// always right); a few contrived pairs (`?*` against `*?`) answer false though one covers
    /// the other, which makes the audit keep a grant rather than drop it.
    func covers(_ other: IAMWildcard) -> Bool {
        let a = symbols
        let b = ignoresCase != other.ignoresCase ? other.symbols.map(Self.lowered) : other.symbols
        guard prefixesAgree(b, other.literalPrefix) else { return false }
        var memo = [Int8](repeating: -1, count: (a.count + 1) * (b.count + 1))
        func go(_ i: Int, _ j: Int) -> Bool {
            let slot = i * (b.count + 1) + j
            if memo[slot] >= 0 { return memo[slot] == 1 }
            let result: Bool
            if i == a.count {
                result = j == b.count
            } else if a[i] == Self.star {
                result = go(i + 1, j) || (j < b.count && go(i, j + 1))
            } else if j == b.count || b[j] == Self.star {
                result = false
            } else if a[i] == Self.question {
                result = go(i + 1, j + 1)
            } else {
                result = a[i] == b[j] && go(i + 1, j + 1)
            }
            memo[slot] = result ? 1 : 0
            return result
        }
        return go(0, 0)
    }

    private static let star = UInt8(ascii: "*")
    private static let question = UInt8(ascii: "?")
    private static func lowered(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte
    }
}
