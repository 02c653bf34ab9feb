/// Keys due at event times, handed out in time order: what lets a stateful rule touch only the
/// sessions or callers whose time has come when the horizon moves, instead of walking all of
/// them.
///
/// A binary heap with lazy deletion: rescheduling a key leaves its old entry in the heap, to be
/// skipped when it surfaces; the heap is rebuilt when stale entries outnumber live ones.
/// Scheduling and taking cost O(log n).
struct TimerQueue<Key: Hashable & Comparable> {
    private struct Entry {
        var time: EventTime
        var key: Key

        static func precedes(_ a: Entry, _ b: Entry) -> Bool { a.time != b.time ? a.time < b.time : a.key < b.key }
    }

    private var heap: [Entry] = []
    private var due: [Key: EventTime] = [:]

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
        heap = due.map { Entry(time: $0.value, key: $0.key) }
        guard heap.count > 1 else { return }
        for index in stride(from: heap.count / 2 - 1, through: 0, by: -1) { siftDown(index) }
    }

    private mutating func push(_ entry: Entry) {
        heap.append(entry)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard Entry.precedes(heap[child], heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func pop() {
        heap.swapAt(0, heap.count - 1)
        heap.removeLast()
        if !heap.isEmpty { siftDown(0) }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            guard left < heap.count else { return }
            var least = left
            if left + 1 < heap.count, Entry.precedes(heap[left + 1], heap[left]) { least = left + 1 }
            guard Entry.precedes(heap[least], heap[parent]) else { return }
            heap.swapAt(least, parent)
            parent = least
        }
    }
}
