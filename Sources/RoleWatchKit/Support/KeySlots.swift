/// Gives each string key a slot (a small integer, reused once freed) and finds the slot by key,
/// for a table of other arrays indexed by slot.
///
/// Why: without a site config, session-multi-location follows every session of every role, and
/// nearly all are seen once: each comes in, waits out its lifetime and goes, hundreds of
/// thousands per run. A `Dictionary` from key to slot hashed each key again when a removal
/// shifted the entries after it and when the table grew, which was most of its cost. Here each
/// key's hash is computed once and kept by slot, the table (open addressing, linear probing,
/// at most half full) holds 4-byte slot numbers, and a removal shifts entries back without
/// hashing anything. The hash is the standard library's own, seeded per process, so crafted keys
/// collide no more than they would as strings.
struct KeySlots {
    /// The key in each slot, "" in a free one.
    private(set) var keys: [String] = []
    private var hashes: [Int] = []
    private var freeSlots: [Int] = []
    /// Slot + 1 of the key whose probe passes there, 0 where none: a power of two in size.
    private var buckets = [Int32](repeating: 0, count: 16)
    private(set) var count = 0

    /// The slot of `key`, if it has one.
    func slot(of key: String) -> Int? { slot(of: key, hash: key.hashValue) }

    /// The slot of `key`, whose `hashValue` is `hash`, if it has one.
    func slot(of key: String, hash: Int) -> Int? {
        let mask = buckets.count - 1
        var index = hash & mask
        while buckets[index] != 0 {
            let slot = Int(buckets[index]) - 1
            if hashes[slot] == hash, keys[slot] == key { return slot }
            index = (index + 1) & mask
        }
        return nil
    }

    /// Gives `key`, which must not have one, a slot: a freed one if any, else `keys.count`.
    /// `hash` is its `hashValue`, when the caller has it from looking it up.
    mutating func insert(_ key: String, hash: Int? = nil) -> Int {
        let hash = hash ?? key.hashValue
        assert(slot(of: key, hash: hash) == nil, "KeySlots: key inserted twice")
        if (count + 1) * 2 > buckets.count { grow() }
        let slot: Int
        if let free = freeSlots.popLast() {
            slot = free
            (keys[slot], hashes[slot]) = (key, hash)
        } else {
            slot = keys.count
            keys.append(key)
            hashes.append(hash)
        }
        place(slot)
        count += 1
        return slot
    }

    /// Frees `slot` and returns its key; nil if it was free.
    @discardableResult
    mutating func remove(slot: Int) -> String? {
        guard slot < keys.count, var hole = bucket(holding: slot) else { return nil }
        let key = keys[slot]
        let mask = buckets.count - 1
        // Backward shift: each later entry of the run moves into the hole unless that would put
        // it before its own home bucket.
        var next = (hole + 1) & mask
        while buckets[next] != 0 {
            let home = hashes[Int(buckets[next]) - 1] & mask
            if (next - home) & mask >= (next - hole) & mask {
                buckets[hole] = buckets[next]
                hole = next
            }
            next = (next + 1) & mask
        }
        buckets[hole] = 0
        (keys[slot], hashes[slot]) = ("", 0)
        freeSlots.append(slot)
        count -= 1
        return key
    }

    /// The slots that hold a key, in slot order.
    var occupied: [Int] { keys.indices.filter { !keys[$0].isEmpty || bucket(holding: $0) != nil } }

    /// The key in `slot` ("" if free).
    subscript(slot: Int) -> String { keys[slot] }

    private func bucket(holding slot: Int) -> Int? {
        let mask = buckets.count - 1
        var index = hashes[slot] & mask
        while buckets[index] != 0 {
            if Int(buckets[index]) - 1 == slot { return index }
            index = (index + 1) & mask
        }
        return nil
    }

    private mutating func place(_ slot: Int) {
        let mask = buckets.count - 1
        var index = hashes[slot] & mask
        while buckets[index] != 0 { index = (index + 1) & mask }
        buckets[index] = Int32(slot + 1)
    }

    private mutating func grow() {
        let old = buckets
        buckets = [Int32](repeating: 0, count: old.count * 2)
        for entry in old where entry != 0 { place(Int(entry) - 1) }
    }
}
