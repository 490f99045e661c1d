import VectortCore
import Generation
import Storage
/// The lifecycle of a credit hold as a value: `held` until it is settled (turned into usage,
/// possibly for less) or released (given back). Both ends are final; repeating the same end
/// is a no-op, so retries are safe.
public enum CreditHoldState: String, Sendable, Equatable {
    case held, settled, released

    public enum Event: Sendable, Equatable {
        case settle(charged: Int, held: Int)
        case release
    }

    /// What to do for an event: move to a new state, do nothing (a repeat), or refuse.
    public enum Transition: Sendable, Equatable {
        case move(to: CreditHoldState)
        case repeatOfFinalState
        case refuse(String)
    }

    public func transition(on event: Event) -> Transition {
        switch (self, event) {
        case (.held, .settle(let charged, let held)):
            if charged < 0 { return .refuse("cannot charge a negative amount") }
            if charged > held { return .refuse("cannot charge \(charged) credits on a hold of \(held)") }
            return .move(to: .settled)
        case (.held, .release):
            return .move(to: .released)
        case (.settled, .settle):
            return .repeatOfFinalState
        case (.released, .release):
            return .repeatOfFinalState
        case (.settled, .release):
            return .refuse("the hold is already settled")
        case (.released, .settle):
            return .refuse("the hold was released")
        }
    }
}
