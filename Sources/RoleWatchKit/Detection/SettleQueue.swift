/// Items waiting for the settled horizon to pass their event time: what a rule that must judge
/// events only once no earlier one can arrive (so that files read in any order give the same
/// findings) holds meanwhile.
///
/// Items are handed out in time order (ties in the order they were added) as the horizon passes
/// them, from a heap (`TimerQueue`), so an advance touches only what it hands out rather than
/// everything waiting.
///
/// A rule that saves each waiting item as an entry of its state (`keepsUnsaved`) learns here
/// which items no commit has written yet (`takeUnsaved()`) and whether an item handed out was
/// written (its entry to delete): by the item's number, so that each of the many items judged
/// before any commit costs a set of integers, not a key made and looked up twice.
struct SettleQueue<Item> {
    private var items: [Int: Item] = [:]
    private var order = TimerQueue<Int>()
    private var next = 0
    /// The items waiting that `takeUnsaved()` has not handed out (with `keepsUnsaved`).
    private var unsaved: Set<Int> = []
    let keepsUnsaved: Bool

    init(keepsUnsaved: Bool = false) {
        self.keepsUnsaved = keepsUnsaved
    }

    var count: Int { items.count }
    var isEmpty: Bool { items.isEmpty }
    /// Every item waiting, in no particular order (for the saved state).
    var all: some Collection<Item> { items.values }

    /// `saved`: the item is already written (taken back from a saved state).
    mutating func add(_ item: Item, at time: EventTime, saved: Bool = false) {
        items[next] = item
        order.schedule(next, at: time)
        if keepsUnsaved, !saved { unsaved.insert(next) }
        next += 1
    }

    /// Takes the items due at or before `time`, in time order.
    mutating func takeDue(through time: EventTime) -> [Item] {
        takeDueMarked(through: time).map(\.item)
    }

    /// `takeDue(through:)`, each item with whether a commit wrote it (always false without
    /// `keepsUnsaved`).
    mutating func takeDueMarked(through time: EventTime) -> [(item: Item, saved: Bool)] {
        order.takeDue(through: time).compactMap { number in
            items.removeValue(forKey: number).map { ($0, keepsUnsaved && unsaved.remove(number) == nil) }
        }
    }

    /// The items waiting that no earlier call handed out, in the order they were added; they
    /// count as written from now on.
    mutating func takeUnsaved() -> [Item] {
        defer { unsaved.removeAll() }
        return unsaved.sorted().compactMap { items[$0] }
    }
}
