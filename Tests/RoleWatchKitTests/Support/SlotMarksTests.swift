@testable import RoleWatchKit
import Testing

@Suite struct SlotMarksTests {
    @Test func takesEachMarkedSlotOnceInTheOrderFirstMarked() {
        var marks = SlotMarks()
        for slot in [5, 2, 5, 9, 2] { marks.mark(slot) }
        #expect(marks.count == 3)
        #expect(marks.contains(9) && !marks.contains(3) && !marks.contains(1_000))
        #expect(marks.take() == [5, 2, 9])
        #expect(marks.isEmpty && marks.take().isEmpty)
    }

    /// A slot freed (unmarked) and given to another session, then marked again, is taken once;
    /// one left unmarked is not taken at all.
    @Test func anUnmarkedSlotIsNotTakenAndAReusedOneIsTakenOnce() {
        var marks = SlotMarks()
        marks.mark(1)
        marks.mark(2)
        marks.unmark(1)
        marks.unmark(2)
        marks.mark(2)
        marks.unmark(7)
        #expect(marks.count == 1)
        #expect(marks.take() == [2])
    }

    /// Random marks and unmarks against a set: the same slots taken, and the list of slots kept
    /// bounded however many marks and unmarks come between two takes.
    @Test(arguments: [1 as UInt64, 2, 3])
    func agreesWithASetUnderChurn(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        var marks = SlotMarks()
        var model: Set<Int> = []
        for round in 0..<50_000 {
            let slot = Int(random.next() % 500)
            if random.next() % 2 == 0 {
                marks.mark(slot)
                model.insert(slot)
                #expect(marks.listed <= max(1_024, 2 * marks.count))
            } else {
                marks.unmark(slot)
                model.remove(slot)
            }
            #expect(marks.count == model.count)
            if round % 9_999 == 0 {
                let taken = marks.take()
                #expect(taken.count == model.count && Set(taken) == model)
                model = []
            }
        }
    }
}
