import Testing

@testable import RoleWatchKit

@Suite struct SettleQueueTests {
    private func at(_ minute: Int64) -> EventTime { EventTime(milliseconds: minute * 60_000) }

    @Test func itemsComeOutInTimeOrderTiesInTheOrderAdded() {
        var queue = SettleQueue<String>()
        for (item, minute) in [("c", 3), ("a1", 1), ("b", 2), ("a2", 1), ("d", 9)] {
            queue.add(item, at: at(Int64(minute)))
        }
        #expect(queue.takeDue(through: at(2)) == ["a1", "a2", "b"])
        #expect(queue.takeDue(through: at(2)).isEmpty)
        #expect(queue.count == 2)
        #expect(queue.takeDue(through: .end) == ["c", "d"])
        #expect(queue.isEmpty)
    }

    /// Only an item a commit wrote (handed out by `takeUnsaved`, or taken back as saved) has an
    /// entry to delete when it is judged; one judged before any commit has none.
    @Test func itemsKnowWhetherACommitWroteThem() {
        var queue = SettleQueue<String>(keepsUnsaved: true)
        queue.add("judged before a commit", at: at(1))
        queue.add("written, then judged", at: at(2))
        queue.add("restored", at: at(3), saved: true)
        queue.add("written, still waiting", at: at(9))
        #expect(queue.takeDue(through: at(1)).count == 1)
        #expect(queue.takeUnsaved() == ["written, then judged", "written, still waiting"])
        #expect(queue.takeUnsaved().isEmpty)
        queue.add("new since the commit", at: at(4))
        let due = queue.takeDueMarked(through: at(4))
        #expect(due.map(\.item) == ["written, then judged", "restored", "new since the commit"])
        #expect(due.map(\.saved) == [true, true, false])
        #expect(queue.takeUnsaved().isEmpty)
    }

    /// An item's slot is reused once it is handed out: the item judged before a commit is not
    /// written, nor marked, in its successor's place, however many come and go in between.
    @Test func aReusedSlotIsNotTakenForTheItemThatLeftIt() {
        var queue = SettleQueue<Int>(keepsUnsaved: true)
        for round in 0..<1_000 {
            queue.add(round, at: at(Int64(round)))
            #expect(queue.takeDue(through: at(Int64(round))) == [round])
        }
        queue.add(1_000, at: at(2_000))
        queue.add(1_001, at: at(2_001), saved: true)
        #expect(queue.takeUnsaved() == [1_000])
        let due = queue.takeDueMarked(through: .end)
        #expect(due.map(\.item) == [1_000, 1_001])
        #expect(due.map(\.saved) == [true, true])
        #expect(queue.isEmpty)
    }

    @Test func withoutKeepingUnsavedNothingCountsAsWritten() {
        var queue = SettleQueue<Int>()
        queue.add(1, at: at(1), saved: true)
        queue.add(2, at: at(2))
        #expect(queue.takeUnsaved().isEmpty)
        #expect(queue.takeDueMarked(through: .end).map(\.saved) == [false, false])
    }
}
