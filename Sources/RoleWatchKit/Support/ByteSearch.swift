extension StringProtocol {
    /// Whether `needle` occurs in this string, comparing bytes: what path and ARN checks on every
    /// file and event need, without Foundation's locale-aware search.
    func containsBytes(_ needle: String) -> Bool {
        let (bytes, needle) = (utf8, needle.utf8)
        guard let first = needle.first else { return true }
        var index = bytes.startIndex
        while let found = bytes[index...].firstIndex(of: first) {
            if bytes[found...].starts(with: needle) { return true }
            index = bytes.index(after: found)
        }
        return false
    }
}
