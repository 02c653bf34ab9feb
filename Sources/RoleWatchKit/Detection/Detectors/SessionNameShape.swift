import Foundation

/// Shapes of session names that say something about who chose them.
///
/// Workloads name sessions after instances, tasks or request ids (`acme-backend-i-0a1b…`);
/// people and default SDK settings produce e-mails, plain user names, `botocore-session-<n>`.
enum SessionNameShape {
    /// `alice@example.com`: IAM Identity Center and many federations name sessions by e-mail.
    static func isEmail(_ name: String) -> Bool {
        // Without a site config every event's caller is asked whether it is a person: on
        // characters, splitting the name into substrings was a tenth of such a scan on one thread.
        name.withASCIIBytes { bytes in
            // One `@` with something before it; after it, two or more labels, none empty.
            guard let at = bytes.firstIndex(of: UInt8(ascii: "@")), at > 0 else { return false }
            let domain = bytes[(at + 1)...]
            guard !domain.contains(UInt8(ascii: "@")), domain.contains(UInt8(ascii: ".")) else { return false }
            var previous = UInt8(ascii: ".")  // a label may not start the domain empty
            for byte in domain {
                if byte == UInt8(ascii: "."), previous == UInt8(ascii: ".") { return false }
                previous = byte
            }
            return previous != UInt8(ascii: ".")
        } ?? isEmailByCharacters(name)
    }

    /// `isEmail` worked out on characters: for a name that is not ASCII, and for the tests that
    /// hold the byte path to it.
    static func isEmailByCharacters(_ name: String) -> Bool {
        let parts = name.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty else { return false }
        let domain = parts[1].split(separator: ".", omittingEmptySubsequences: false)
        return domain.count >= 2 && domain.allSatisfy { !$0.isEmpty }
    }

    /// A bare user name such as `alice`, `Alice` or `john.doe`: one or two runs of letters,
    /// lowercase after an optional capital, joined by `.` or `_`. CamelCase (`SampleSession`)
    /// is how programs name things, not people.
    static func isPersonName(_ name: String) -> Bool {
        name.withASCIIBytes { bytes in
            var (parts, length) = (1, 0)
            for byte in bytes {
                if byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") {
                    guard (2...20).contains(length), parts < 2 else { return false }
                    (parts, length) = (parts + 1, 0)
                    continue
                }
                let lower = (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                guard lower || (length == 0 && (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)) else {
                    return false
                }
                length += 1
            }
            return (2...20).contains(length)
        } ?? isPersonNameByCharacters(name)
    }

    /// `isPersonName` worked out on characters (see `isEmailByCharacters`).
    static func isPersonNameByCharacters(_ name: String) -> Bool {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false).flatMap {
            $0.split(separator: "_", omittingEmptySubsequences: false)
        }
        guard (1...2).contains(parts.count) else { return false }
        return parts.allSatisfy { part in
            (2...20).contains(part.count)
                && part.unicodeScalars.enumerated().allSatisfy { index, scalar in
                    ("a"..."z").contains(scalar) || (index == 0 && ("A"..."Z").contains(scalar))
                }
        }
    }

    /// The ids AWS names workload sessions by: an EC2 instance (`i-` and 8 or 17 hex digits,
    /// instance-profile sessions), an ECS task (32 hex digits), or a UUID.
    static func isWorkloadID(_ name: String) -> Bool {
        if isInstanceID(name) { return true }
        let bytes = Array(name.utf8)
        if bytes.count == 32 { return isHex(bytes[...]) }
        guard bytes.count == 36 else { return false }
        return [8, 13, 18, 23].allSatisfy { bytes[$0] == UInt8(ascii: "-") }
            && isHex(bytes[0..<8]) && isHex(bytes[9..<13]) && isHex(bytes[14..<18]) && isHex(bytes[19..<23])
            && isHex(bytes[24...])
    }

    /// An EC2 instance id (`i-` and 8 or 17 hex digits): the name AWS gives the sessions it
    /// delivers to an instance through its instance profile.
    static func isInstanceID(_ name: String) -> Bool {
        let bytes = name.utf8
        guard bytes.count == 10 || bytes.count == 19, bytes.starts(with: "i-".utf8) else { return false }
        return bytes.dropFirst(2).allSatisfy(isHexDigit)
    }

    private static func isHex(_ slice: ArraySlice<UInt8>) -> Bool { slice.allSatisfy(isHexDigit) }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
    }

    /// The session names SDKs make up when the caller gives none.
    static func sdkDefault(_ name: String) -> String? {
        let prefixes = [
            "botocore-session-", "aws-go-sdk-", "aws-sdk-java-", "aws-sdk-js-", "aws-sdk-dotnet-", "aws-sdk-rust-",
            "aws-sdk-ruby-", "aws-sdk-php-",
        ]
        guard let prefix = prefixes.first(where: { name.hasPrefix($0) }) else { return nil }
        let rest = name.dropFirst(prefix.count)
        return !rest.isEmpty && rest.allSatisfy({ $0.isNumber || $0 == "-" }) ? prefix + "<n>" : nil
    }

    /// Long, unstructured alphanumerics (`Xk3q9ZpL2mN8vR4t`): no separators, letters and digits
    /// mixed with high character entropy, unlike a workload's `prefix-<id>` scheme.
    static func looksRandom(_ name: String, minLength: Int = 12) -> Bool {
        let scalars = Array(name.unicodeScalars)
        guard scalars.count >= minLength,
            scalars.allSatisfy({ ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) })
        else { return false }
        let digits = scalars.filter { ("0"..."9").contains($0) }.count
        let uppers = scalars.filter { ("A"..."Z").contains($0) }.count
        let lowers = scalars.count - digits - uppers
        let classes = [digits, uppers, lowers].filter { $0 > 0 }.count
        guard classes >= 2, digits > 0 || (uppers > 0 && lowers > 0) else { return false }
        var counts: [Unicode.Scalar: Int] = [:]
        for s in scalars { counts[s, default: 0] += 1 }
        let n = Double(scalars.count)
        let entropy = counts.values.reduce(0.0) { sum, c in
            let p = Double(c) / n
            return sum - p * log2(p)
        }
        // A random string of 12+ characters over 36-62 symbols scores above 3.3 bits per symbol;
        // words and hex-ish ids with repeated characters score lower.
        return entropy >= 3.3
    }
}
