/// A list whose elements stay in slots of their own while the list orders slot numbers: an
/// insertion in the middle moves 4-byte numbers, not the elements behind it.
///
/// Why: a caller's window (`CoverageWindow`) keeps its calls in time order, and they arrive a
/// file at a time, each account's file covering the same hour as the others'. A vendor fanning
/// out to 8,000 customers holds tens of thousands of calls of about 170 bytes in one window, and
/// inserting into an array of them moved megabytes per call: the largest cost of that scan.
struct SlottedList<Element>: RandomAccessCollection {
    private var slots: [Element?] = []
    private var order: [Int32] = []
    private var freeSlots: [Int32] = []

    init() {}

    init(_ elements: some Sequence<Element>) {
        for element in elements { append(element) }
    }

    var startIndex: Int { 0 }
    var endIndex: Int { order.count }

    subscript(position: Int) -> Element {
        get { slots[Int(order[position])]! }
        _modify { yield &slots[Int(order[position])]! }
    }

    mutating func append(_ element: consuming Element) {
        insert(element, at: order.count)
    }

    mutating func insert(_ element: consuming Element, at position: Int) {
        let slot: Int32
        if let free = freeSlots.popLast() {
            slot = free
            slots[Int(slot)] = element
        } else {
            slot = Int32(slots.count)
            slots.append(element)
        }
        order.insert(slot, at: position)
    }

    @discardableResult
    mutating func remove(at position: Int) -> Element {
        let slot = order.remove(at: position)
        return release(slot)
    }

    mutating func removeFirst(_ count: Int) {
        for slot in order[..<count] { release(slot) }
        order.removeFirst(count)
    }

    @discardableResult
    private mutating func release(_ slot: Int32) -> Element {
        let element = slots[Int(slot)].take()!
        freeSlots.append(slot)
        return element
    }
}

extension SlottedList: Sendable where Element: Sendable {}
