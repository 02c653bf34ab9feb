/// Longest-prefix match over IPv4 and IPv6 networks, each carrying a value (for AWS ranges:
/// the regions and services of the prefix).
///
/// It is a path-compressed binary trie kept in one flat array, one trie per family: a node
/// exists only where a network was inserted or where two of them branch apart, so a lookup
/// visits as many nodes as there are nested or diverging prefixes along the address's path,
/// not one per bit: with AWS's 11k distinct prefixes, 19 on average and 34 at most for an
/// address inside them, 5 for a random IPv4 address. No node is a class, so building
/// allocates only when the arrays grow, and the set is a plain value.
///
/// What must hold: every node's `key` is a prefix of the keys below it, a child is longer
/// than its parent, and a node's children differ in the bit right after the parent's length.
///
/// Inserting a network that is already present replaces its value, as a dictionary would.
public struct PrefixSet<Value: Sendable>: Sendable {
    private struct Node: Sendable {
        /// The node's network, bits past `length` clear (see `IPAddress.bits` for IPv4).
        var key: Bits128
        var length: UInt8
        /// Index into `values`, or -1 when the node only marks a branching point.
        var entry: Int32
        /// Indexes into `nodes`, -1 for none: the subtree whose next bit is 0, then 1.
        var zero: Int32 = -1
        var one: Int32 = -1

        func child(_ bit: Int) -> Int32 { bit == 0 ? zero : one }

        mutating func setChild(_ bit: Int, _ index: Int32) {
            if bit == 0 { zero = index } else { one = index }
        }
    }

    /// `nodes[0]` is the IPv4 root, `nodes[1]` the IPv6 root: both stand for the /0 network.
    private var nodes: [Node] = [
        Node(key: .zero, length: 0, entry: -1),
        Node(key: .zero, length: 0, entry: -1),
    ]
    private var values: [Value] = []

    public init() {}

    public init(_ entries: some Sequence<(CIDR, Value)>) {
        for (cidr, value) in entries { insert(cidr, value) }
    }

    /// The number of distinct networks in the set.
    public var count: Int { values.count }

    public var isEmpty: Bool { values.isEmpty }

    public mutating func insert(_ cidr: CIDR, _ value: Value) {
        let key = cidr.network.bits
        let length = cidr.prefixLength
        var parent = Self.root(cidr.network.family)
        while true {
            // Holds here: nodes[parent] is a prefix of `key` no longer than `length`.
            let parentLength = Int(nodes[parent].length)
            if parentLength == length {
                if nodes[parent].entry >= 0 {
                    values[Int(nodes[parent].entry)] = value
                } else {
                    nodes[parent].entry = appendValue(value)
                }
                return
            }
            let direction = key.bit(parentLength)
            let childIndex = nodes[parent].child(direction)
            if childIndex < 0 {
                let leaf = appendNode(Node(key: key, length: UInt8(length), entry: appendValue(value)))
                nodes[parent].setChild(direction, leaf)
                return
            }
            let child = nodes[Int(childIndex)]
            let shared = min(length, Int(child.length), key.commonPrefixLength(with: child.key))
            if shared == Int(child.length) {
                parent = Int(childIndex)
                continue
            }
            // The new network is shorter than the child or branches off inside its edge:
            // put a node at the shared length between parent and child.
            let split: Int32
            if shared == length {
                split = appendNode(Node(key: key, length: UInt8(length), entry: appendValue(value)))
            } else {
                split = appendNode(Node(key: key & Bits128.prefixMask(shared), length: UInt8(shared), entry: -1))
                let leaf = appendNode(Node(key: key, length: UInt8(length), entry: appendValue(value)))
                nodes[Int(split)].setChild(key.bit(shared), leaf)
            }
            nodes[Int(split)].setChild(child.key.bit(shared), childIndex)
            nodes[parent].setChild(direction, split)
            return
        }
    }

    /// The longest network in the set that contains `ip`, with its value.
    public func longestMatch(_ ip: IPAddress) -> (prefix: CIDR, value: Value)? {
        nodes.withUnsafeBufferPointer { nodes in
            var current = Self.root(ip.family)
            var best = nodes[current].entry >= 0 ? current : -1
            while let next = Self.step(nodes, from: current, toward: ip.bits) {
                current = next
                if nodes[current].entry >= 0 { best = current }
            }
            guard best >= 0 else { return nil }
            let node = nodes[best]
            return (
                CIDR(masking: IPAddress(family: ip.family, bits: node.key), prefixLength: Int(node.length)),
                values[Int(node.entry)]
            )
        }
    }

    /// Whether any network in the set contains `ip`; stops at the first (shortest) one.
    public func contains(_ ip: IPAddress) -> Bool {
        nodes.withUnsafeBufferPointer { nodes in
            var current = Self.root(ip.family)
            while nodes[current].entry < 0 {
                guard let next = Self.step(nodes, from: current, toward: ip.bits) else { return false }
                current = next
            }
            return true
        }
    }

    /// The child of `current` on the path of `bits`, if it exists and its network contains them.
    @inline(__always)
    private static func step(_ nodes: UnsafeBufferPointer<Node>, from current: Int, toward bits: Bits128) -> Int? {
        let length = Int(nodes[current].length)
        guard length < 128 else { return nil }
        let child = Int(nodes[current].child(bits.bit(length)))
        guard child >= 0, bits.commonPrefixLength(with: nodes[child].key) >= Int(nodes[child].length) else {
            return nil
        }
        return child
    }

    private static func root(_ family: IPAddress.Family) -> Int { family == .ipv4 ? 0 : 1 }

    private mutating func appendNode(_ node: Node) -> Int32 {
        nodes.append(node)
        return Int32(nodes.count - 1)
    }

    private mutating func appendValue(_ value: Value) -> Int32 {
        precondition(values.count < Int32.max, "a PrefixSet holds at most \(Int32.max) networks")
        values.append(value)
        return Int32(values.count - 1)
    }
}
