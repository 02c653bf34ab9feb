extension Array {
    /// Puts the elements in the order `order` gives (the element now at `order[k]` goes to place
    /// `k`; `order` holds every index once), each moved along its cycle by swaps rather than
    /// copied: for elements that hold many references (a rule's waiting observations, a dozen
    /// strings each), a copy retains and releases every one of them.
    mutating func permute(to order: [Int]) {
        precondition(order.count == count, "an order of every element")
        var placed = [Bool](repeating: false, count: count)
        for start in indices where !placed[start] {
            var place = start
            while order[place] != start {
                swapAt(place, order[place])
                placed[place] = true
                place = order[place]
            }
            placed[place] = true
        }
    }
}
