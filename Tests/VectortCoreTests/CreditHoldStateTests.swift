import Testing
import VectortCore

@Suite("CreditHoldState: held until settled or released, both final")
struct CreditHoldStateTests {
    struct Row: Sendable, CustomTestStringConvertible {
        let state: CreditHoldState
        let event: CreditHoldState.Event
        let expected: CreditHoldState.Transition
        var previouslyCharged: Int? = nil
        var testDescription: String { "\(state) on \(event)" }
    }

    static let table: [Row] = [
        Row(state: .held, event: .settle(charged: 4, held: 4), expected: .move(to: .settled)),
        Row(state: .held, event: .settle(charged: 1, held: 4), expected: .move(to: .settled)),
        Row(state: .held, event: .settle(charged: 0, held: 4), expected: .move(to: .settled)),
        Row(state: .held, event: .release, expected: .move(to: .released)),
        Row(state: .settled, event: .settle(charged: 4, held: 4), expected: .repeatOfFinalState, previouslyCharged: 4),
        Row(state: .settled, event: .settle(charged: nil, held: 4), expected: .repeatOfFinalState),
        Row(state: .held, event: .settle(charged: nil, held: 4), expected: .move(to: .settled)),
        Row(state: .released, event: .release, expected: .repeatOfFinalState),
    ]

    @Test(arguments: table)
    func transitionsFollowTheTable(_ row: Row) {
        #expect(row.state.transition(on: row.event, previouslyCharged: row.previouslyCharged) == row.expected)
    }

    static let refusals: [(CreditHoldState, CreditHoldState.Event)] = [
        (.settled, .release),
        (.released, .settle(charged: 1, held: 4)),
    ]

    @Test(arguments: refusals)
    func impossibleTransitionsAreRefusedWithAReason(state: CreditHoldState, event: CreditHoldState.Event) {
        guard case .refuse(let reason) = state.transition(on: event) else {
            Issue.record("\(state) on \(event) was not refused")
            return
        }
        #expect(!reason.isEmpty)
    }

    @Test(arguments: [CreditHoldState.held, .settled, .released])
    func anAmountTheHoldCannotTakeIsInvalidInEveryState(state: CreditHoldState) {
        for charged in [5, -1] {
            guard case .invalidAmount(let reason) = state.transition(on: .settle(charged: charged, held: 4), previouslyCharged: 4)
            else {
                Issue.record("\(state): \(charged) of 4 was not an invalid amount")
                continue
            }
            #expect(!reason.isEmpty)
        }
    }

    @Test func settlingASettledHoldAgainForAnotherAmountIsAConflict() {
        #expect(CreditHoldState.settled.transition(on: .settle(charged: 2, held: 4), previouslyCharged: 2) == .repeatOfFinalState)
        guard case .refuse(let reason) = CreditHoldState.settled.transition(on: .settle(charged: 3, held: 4), previouslyCharged: 2)
        else {
            Issue.record("a second settle for another amount was not refused")
            return
        }
        #expect(reason.contains("settled for 2"))
    }

    @Test func finalStatesNeverMoveAgain() {
        let events: [CreditHoldState.Event] = [.release, .settle(charged: 0, held: 1), .settle(charged: 1, held: 1)]
        for state in [CreditHoldState.settled, .released] {
            for event in events {
                if case .move = state.transition(on: event) { Issue.record("\(state) moved on \(event)") }
            }
        }
    }
}
