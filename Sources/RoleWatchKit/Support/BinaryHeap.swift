/// A binary min-heap kept in an array, least first by `precedes`: the one implementation of the
/// time-ordered queues (`TimerQueueOf`, `SettleQueue`). Pushing and taking the least cost
/// O(log n).
extension Array {
    mutating func heapPush(_ element: Element, by precedes: (Element, Element) -> Bool) {
        append(element)
        var child = count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard precedes(self[child], self[parent]) else { break }
            swapAt(child, parent)
            child = parent
        }
    }

    /// Removes the least element; the heap must not be empty.
    mutating func heapRemoveLeast(by precedes: (Element, Element) -> Bool) {
        swapAt(0, count - 1)
        removeLast()
        if !isEmpty { heapSiftDown(from: 0, by: precedes) }
    }

    /// Makes the heap whole below `start`, whose element may be out of place.
    mutating func heapSiftDown(from start: Int, by precedes: (Element, Element) -> Bool) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            guard left < count else { return }
            var least = left
            if left + 1 < count, precedes(self[left + 1], self[left]) { least = left + 1 }
            guard precedes(self[least], self[parent]) else { return }
            swapAt(least, parent)
            parent = least
        }
    }
}
