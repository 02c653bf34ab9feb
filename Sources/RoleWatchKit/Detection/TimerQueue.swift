/// A timer queue of any keys, its due times in a hash table.
typealias TimerQueue<Key: Hashable & Comparable> = TimerQueueOf<Key, DueTable<Key>>

/// A timer queue of slot numbers (small integers a rule reuses), its due times in an array.
typealias SlotTimerQueue = TimerQueueOf<Int, DueSlots>

/// When each key of a `TimerQueueOf` is due.
protocol DueTimes {
    associatedtype Key
    init()
    subscript(key: Key) -> EventTime? { get set }
    /// Keys with a due time.
    var count: Int { get }
    var all: [(key: Key, time: EventTime)] { get }
}

/// Due times in a hash table: any keys.
struct DueTable<Key: Hashable>: DueTimes {
    private var times: [Key: EventTime] = [:]
    init() {}
    subscript(key: Key) -> EventTime? {
        get { times[key] }
        set { times[key] = newValue }
    }
    var count: Int { times.count }
    var all: [(key: Key, time: EventTime)] { times.map { ($0.key, $0.value) } }
}

/// Due times in an array indexed by the key: for small non-negative keys (slots), which a
/// table would hash, and rehash on each removal, for nothing.
struct DueSlots: DueTimes {
    private var times: [EventTime?] = []
    private(set) var count = 0
    init() {}
    subscript(key: Int) -> EventTime? {
        get { key < times.count ? times[key] : nil }
        set {
            if key >= times.count {
                guard newValue != nil else { return }
                times.append(contentsOf: repeatElement(nil, count: key - times.count + 1))
            }
            count += (newValue != nil ? 1 : 0) - (times[key] != nil ? 1 : 0)
            times[key] = newValue
        }
    }
    var all: [(key: Int, time: EventTime)] { times.indices.compactMap { key in times[key].map { (key, $0) } } }
}

/// Keys due at event times, handed out in time order: what lets a stateful rule touch only the
/// sessions or callers whose time has come when the horizon moves, instead of walking all of
/// them.
///
/// A binary heap with lazy deletion: rescheduling a key leaves its old entry in the heap, to be
/// skipped when it surfaces; the heap is rebuilt when stale entries outnumber live ones.
/// Scheduling and taking cost O(log n).
struct TimerQueueOf<Key: Comparable, Due: DueTimes> where Due.Key == Key {
    private struct Entry: HeapOrdered {
        var time: EventTime
        var key: Key

        static func precedes(_ a: Entry, _ b: Entry) -> Bool { a.time != b.time ? a.time < b.time : a.key < b.key }
    }

    private var heap: [Entry] = []
    private var due = Due()

    /// Makes `key` due at `time`, replacing any earlier schedule.
    mutating func schedule(_ key: Key, at time: EventTime) {
        guard due[key] != time else { return }
        due[key] = time
        push(Entry(time: time, key: key))
        if heap.count > 2 * due.count + 64 { rebuild() }
    }

    mutating func cancel(_ key: Key) { due[key] = nil }

    /// Takes every key due at or before `time`, in time order (ties by key).
    mutating func takeDue(through time: EventTime) -> [Key] { take(through: time, limit: .max) }

    /// Takes the `count` keys due first, in time order (ties by key), whenever they are due:
    /// what a rule over its cap drops, without sorting all it holds.
    mutating func takeEarliest(_ count: Int) -> [Key] { take(through: nil, limit: count) }

    /// Takes keys in time order while they are due by `time` (any time if nil), at most `limit`.
    private mutating func take(through time: EventTime?, limit: Int) -> [Key] {
        var taken: [Key] = []
        while taken.count < limit, let top = heap.first, time.map({ top.time <= $0 }) ?? true {
            pop()
            guard due[top.key] == top.time else { continue }
            due[top.key] = nil
            taken.append(top.key)
        }
        return taken
    }

    /// The earliest time a key is due at, if any key is.
    mutating func earliest() -> EventTime? {
        while let top = heap.first {
            if due[top.key] == top.time { return top.time }
            pop()
        }
        return nil
    }

    private mutating func rebuild() {
        heap = due.all.map { Entry(time: $0.time, key: $0.key) }
        guard heap.count > 1 else { return }
        for index in stride(from: heap.count / 2 - 1, through: 0, by: -1) { siftDown(index) }
    }

    private mutating func push(_ entry: Entry) { heap.heapPush(entry) }

    private mutating func pop() { heap.heapRemoveLeast() }

    private mutating func siftDown(_ start: Int) { heap.heapSiftDown(from: start) }
}
