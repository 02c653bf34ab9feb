/// Items waiting for the settled horizon to pass their event time: what a rule that must judge
/// events only once no earlier one can arrive (so that files read in any order give the same
/// findings) holds meanwhile.
///
/// Items are handed out in time order (ties in the order they were added) as the horizon passes
/// them, from a binary heap of their times, so an advance touches only what it hands out rather
/// than everything waiting. An item stays in a slot of its own while the heap moves its number:
/// an item is never rescheduled, so no table of due times is needed (a `TimerQueue`'s), and
/// nothing is hashed; with a table of items and one of due times, each call a vendor made
/// was hashed into and out of both.
///
/// A rule that saves each waiting item as an entry of its state (`keepsUnsaved`) learns here
/// which items no commit has written yet (`takeUnsaved()`) and whether an item handed out was
/// written (its entry to delete), from a mark kept beside the item.
struct SettleQueue<Item> {
    private struct Due: HeapOrdered {
        var time: EventTime
        var number: Int
        var slot: Int32

        static func precedes(_ a: Due, _ b: Due) -> Bool { a.time != b.time ? a.time < b.time : a.number < b.number }
    }

    /// Each slot's item, moved in and out (an item of a dozen strings copied retains each).
    private var items: [Item?] = []
    /// The order each slot's item was added in: what tells it from a later one in the same
    /// slot (`unsaved`).
    private var numbers: [Int] = []
    /// Whether a commit wrote each slot's item (always false without `keepsUnsaved`).
    private var savedMarks: [Bool] = []
    private var freeSlots: [Int32] = []
    private var heap: [Due] = []
    private var next = 0
    /// With `keepsUnsaved`: the items added since the last `takeUnsaved()`, in the order added
    /// (an item handed out since is skipped: its slot is empty or holds a later number).
    private var unsaved: [(number: Int, slot: Int32)] = []
    let keepsUnsaved: Bool

    init(keepsUnsaved: Bool = false) {
        self.keepsUnsaved = keepsUnsaved
    }

    var count: Int { heap.count }
    var isEmpty: Bool { heap.isEmpty }

    /// `saved`: the item is already written (taken back from a saved state).
    mutating func add(_ item: consuming Item, at time: EventTime, saved: Bool = false) {
        let slot: Int32
        if let free = freeSlots.popLast() {
            slot = free
            items[Int(slot)] = item
            (numbers[Int(slot)], savedMarks[Int(slot)]) = (next, keepsUnsaved && saved)
        } else {
            slot = Int32(items.count)
            items.append(item)
            numbers.append(next)
            savedMarks.append(keepsUnsaved && saved)
        }
        push(Due(time: time, number: next, slot: slot))
        if keepsUnsaved, !saved {
            unsaved.append((next, slot))
            if unsaved.count > 2 * heap.count + 64 { unsaved = unsaved.filter(isWaiting) }
        }
        next += 1
    }

    /// Takes the items due at or before `time`, in time order.
    mutating func takeDue(through time: EventTime) -> [Item] {
        takeDueMarked(through: time).map(\.item)
    }

    /// `takeDue(through:)`, each item with whether a commit wrote it (always false without
    /// `keepsUnsaved`).
    mutating func takeDueMarked(through time: EventTime) -> [(item: Item, saved: Bool)] {
        var taken: [(item: Item, saved: Bool)] = []
        while let top = heap.first, top.time <= time {
            pop()
            taken.append((items[Int(top.slot)].take()!, savedMarks[Int(top.slot)]))
            freeSlots.append(top.slot)
        }
        return taken
    }

    /// The items waiting that no earlier call handed out, in the order they were added; they
    /// count as written from now on.
    mutating func takeUnsaved() -> [Item] {
        defer { unsaved.removeAll() }
        var items: [Item] = []
        for entry in unsaved where isWaiting(entry) {
            savedMarks[Int(entry.slot)] = true
            items.append(self.items[Int(entry.slot)]!)
        }
        return items
    }

    /// Whether the item `unsaved` lists is still waiting: its slot holds it, not nothing or a
    /// later item.
    private func isWaiting(_ entry: (number: Int, slot: Int32)) -> Bool {
        items[Int(entry.slot)] != nil && numbers[Int(entry.slot)] == entry.number
    }

    private mutating func push(_ entry: Due) { heap.heapPush(entry) }

    private mutating func pop() { heap.heapRemoveLeast() }
}
