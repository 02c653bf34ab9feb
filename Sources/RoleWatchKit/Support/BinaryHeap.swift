/// What a binary heap (`Array.heapPush`) orders its elements by, least first.
protocol HeapOrdered {
    static func precedes(_ a: Self, _ b: Self) -> Bool
}

/// A binary min-heap kept in an array, least first by `precedes`: the one implementation of the
/// time-ordered queues (`TimerQueueOf`, `SettleQueue`). Pushing and taking the least cost
/// O(log n). The order is the element type's, not a closure's: a closure formed from a generic
/// queue's comparison captured its type parameters' metatypes, which Swift 6 warns about.
extension Array where Element: HeapOrdered {
    mutating func heapPush(_ element: Element) {
        append(element)
        var child = count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard Element.precedes(self[child], self[parent]) else { break }
            swapAt(child, parent)
            child = parent
        }
    }

    /// Removes the least element; the heap must not be empty.
    mutating func heapRemoveLeast() {
        swapAt(0, count - 1)
        removeLast()
        if !isEmpty { heapSiftDown(from: 0) }
    }

    /// Makes the heap whole below `start`, whose element may be out of place.
    mutating func heapSiftDown(from start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            guard left < count else { return }
            var least = left
            if left + 1 < count, Element.precedes(self[left + 1], self[left]) { least = left + 1 }
            guard Element.precedes(self[least], self[parent]) else { return }
            swapAt(least, parent)
            parent = least
        }
    }
}
