import Synchronization

/// A value behind a lock, as a reference that closures and tasks can share (a `Mutex` itself
/// cannot be captured or stored in a `Sendable` class's `let` and copied around).
public final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    public init(_ value: Value) { mutex = Mutex(value) }

    public func withLock<R>(_ body: (inout Value) -> R) -> R {
        mutex.withLock { body(&$0) }
    }

    /// The value now; setting it replaces it whole.
    public var value: Value {
        get { mutex.withLock { $0 } }
        set { mutex.withLock { $0 = newValue } }
    }
}
