/// Items waiting for the settled horizon to pass their event time: what a rule that must judge
/// events only once no earlier one can arrive (so that files read in any order give the same
/// findings) holds meanwhile.
///
/// Items are handed out in time order (ties in the order they were added) as the horizon passes
/// them, from a heap (`TimerQueue`), so an advance touches only what it hands out rather than
/// everything waiting.
struct SettleQueue<Item> {
    private var items: [Int: Item] = [:]
    private var order = TimerQueue<Int>()
    private var next = 0

    var count: Int { items.count }
    var isEmpty: Bool { items.isEmpty }
    /// Every item waiting, in no particular order (for the saved state).
    var all: some Collection<Item> { items.values }

    mutating func add(_ item: Item, at time: EventTime) {
        items[next] = item
        order.schedule(next, at: time)
        next += 1
    }

    /// Takes the items due at or before `time`, in time order.
    mutating func takeDue(through time: EventTime) -> [Item] {
        order.takeDue(through: time).compactMap { items.removeValue(forKey: $0) }
    }
}
