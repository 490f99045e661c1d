/// The lifecycle of a credit hold as a value: `held` until it is settled (turned into usage,
/// possibly for less) or released (given back). Both ends are final; repeating the call that
/// ended a hold is a no-op, so retries are safe, but a settle that asks for another amount than
/// the hold was settled for is refused: it cannot be what the first call meant.
public enum CreditHoldState: String, Sendable, Equatable {
    case held, settled, released

    public enum Event: Sendable, Equatable {
        /// Settle for `charged` credits; nil (no amount given) means all that is held.
        case settle(charged: Int?, held: Int)
        case release
    }

    /// What to do for an event: move to a new state, do nothing (a repeat), or refuse it as an
    /// amount the hold cannot take (`invalidAmount`) or as the wrong call for the state (`refuse`).
    public enum Transition: Sendable, Equatable {
        case move(to: CreditHoldState)
        case repeatOfFinalState
        case invalidAmount(String)
        case refuse(String)
    }

    /// `previouslyCharged` is what a settled hold was settled for.
    public func transition(on event: Event, previouslyCharged: Int? = nil) -> Transition {
        if case .settle(let charged?, let held) = event {
            // The amount is checked first, whatever the state.
            if charged < 0 { return .invalidAmount("cannot charge a negative amount") }
            if charged > held { return .invalidAmount("cannot charge \(charged) credits on a hold of \(held)") }
        }
        switch (self, event) {
        case (.held, .settle):
            return .move(to: .settled)
        case (.held, .release):
            return .move(to: .released)
        case (.settled, .settle(let charged, _)):
            guard let charged, charged != previouslyCharged else { return .repeatOfFinalState }
            return .refuse("the hold is already settled for \(previouslyCharged.map(String.init) ?? "its") credits")
        case (.released, .release):
            return .repeatOfFinalState
        case (.settled, .release):
            return .refuse("the hold is already settled")
        case (.released, .settle):
            return .refuse("the hold was released")
        }
    }
}
