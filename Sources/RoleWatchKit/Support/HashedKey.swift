/// A string key that hashes its text once: for tables with heavy churn, such as a rule's table
/// of every session of every role, where a removal shifts later entries of the probe run and
/// hashes each again; with plain `String` keys that rehashing was most of the table's cost.
///
/// The digest is the standard library's own seeded hash of the text, so that crafted keys
/// collide no more than they would as strings.
struct HashedKey: Hashable, Sendable {
    let text: String
    private let digest: Int

    init(_ text: String) {
        self.text = text
        digest = text.hashValue
    }

    static func == (a: HashedKey, b: HashedKey) -> Bool { a.digest == b.digest && a.text == b.text }

    func hash(into hasher: inout Hasher) { hasher.combine(digest) }
}
