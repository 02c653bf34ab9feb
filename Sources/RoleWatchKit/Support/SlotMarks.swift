/// Slots (of `KeySlots`) marked for later work, such as judging at the next advance or saving at
/// the next commit, each taken once however often it was marked.
///
/// Why: without a site config, session-multi-location follows hundreds of thousands of sessions,
/// and with state every new one is marked to be judged and saved. Sets of their keys hashed each
/// key again to mark it, to unmark it when the session ended and to look its slot up when taken:
/// a third of that rule's work in `scan --state`. Here a mark is a flag by slot plus a list of
/// the slots marked. A slot freed is unmarked (`unmark`); its stale place in the list is skipped
/// when taken, and a slot marked again after reuse is still taken once.
struct SlotMarks {
    private var flags: [Bool] = []
    private var list: [Int] = []
    /// How many slots are marked.
    private(set) var count = 0
    /// How long the list is, stale places included (for tests of its bound).
    var listed: Int { list.count }

    var isEmpty: Bool { count == 0 }

    func contains(_ slot: Int) -> Bool { slot < flags.count && flags[slot] }

    mutating func mark(_ slot: Int) {
        if slot >= flags.count { flags += repeatElement(false, count: slot + 1 - flags.count) }
        guard !flags[slot] else { return }
        // Slots unmarked since they were listed stay listed until taken: when they outnumber
        // the marked, the list is rebuilt, so that its length stays within twice the marks.
        if list.count >= 1024, list.count >= 2 * count { compact() }
        flags[slot] = true
        count += 1
        list.append(slot)
    }

    /// The list of the marked alone, each once (a slot marked again after reuse is listed twice).
    private mutating func compact() {
        let marked = take()
        for slot in marked { flags[slot] = true }
        list = marked
        count = marked.count
    }

    mutating func unmark(_ slot: Int) {
        guard contains(slot) else { return }
        flags[slot] = false
        count -= 1
    }

    /// The marked slots, each once, in the order they were first marked; unmarks them all.
    mutating func take() -> [Int] {
        var taken: [Int] = []
        taken.reserveCapacity(count)
        for slot in list where flags[slot] {
            flags[slot] = false
            taken.append(slot)
        }
        list.removeAll(keepingCapacity: true)
        count = 0
        return taken
    }
}
