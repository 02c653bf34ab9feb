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
    private struct Held {
        var item: Item
        /// The order it was added in: what ties in time go by, and what tells a slot's item
        /// from a later one in the same slot (`unsaved`).
        var number: Int
        /// A commit wrote it (always false without `keepsUnsaved`).
        var saved: Bool
    }

    private struct Due {
        var time: EventTime
        var number: Int
        var slot: Int32

        static func precedes(_ a: Due, _ b: Due) -> Bool { a.time != b.time ? a.time < b.time : a.number < b.number }
    }

    private var slots: [Held?] = []
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
    mutating func add(_ item: Item, at time: EventTime, saved: Bool = false) {
        let held = Held(item: item, number: next, saved: keepsUnsaved && saved)
        let slot: Int32
        if let free = freeSlots.popLast() {
            slot = free
            slots[Int(slot)] = held
        } else {
            slot = Int32(slots.count)
            slots.append(held)
        }
        push(Due(time: time, number: next, slot: slot))
        if keepsUnsaved, !saved {
            unsaved.append((next, slot))
            if unsaved.count > 2 * heap.count + 64 {
                let slots = self.slots
                unsaved.removeAll { slots[Int($0.slot)]?.number != $0.number }
            }
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
            let held = slots[Int(top.slot)].take()!
            freeSlots.append(top.slot)
            taken.append((held.item, held.saved))
        }
        return taken
    }

    /// The items waiting that no earlier call handed out, in the order they were added; they
    /// count as written from now on.
    mutating func takeUnsaved() -> [Item] {
        defer { unsaved.removeAll() }
        var items: [Item] = []
        for entry in unsaved where isHeld(entry) {
            slots[Int(entry.slot)]!.saved = true
            items.append(slots[Int(entry.slot)]!.item)
        }
        return items
    }

    private func isHeld(_ entry: (number: Int, slot: Int32)) -> Bool { slots[Int(entry.slot)]?.number == entry.number }

    private mutating func push(_ entry: Due) {
        heap.append(entry)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard Due.precedes(heap[child], heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func pop() {
        heap.swapAt(0, heap.count - 1)
        heap.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1
            guard left < heap.count else { return }
            var least = left
            if left + 1 < heap.count, Due.precedes(heap[left + 1], heap[left]) { least = left + 1 }
            guard Due.precedes(heap[least], heap[parent]) else { return }
            heap.swapAt(least, parent)
            parent = least
        }
    }
}
