import Foundation

/// Runs blocking work (a synchronous socket call, a wait on a child process or a semaphore) on a
/// thread of its own. Swift's cooperative pool has one thread per core, two on this project's
/// machines: a test that blocks one of them holds back every other test in the process.
public enum Blocking {
    public static func run<T, E: Error>(_ body: @escaping @Sendable () throws(E) -> T) async throws(E) -> T {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Unchecked<Result<T, E>>, Never>) in
            let thread = Thread {
                continuation.resume(returning: Unchecked(Result { () throws(E) -> T in try body() }))
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        return try result.value.get()
    }
}

/// Carries a value that is not `Sendable` across a hop where only one side uses it at a time: the
/// caller is suspended while the thread works on it.
public struct Unchecked<Value>: @unchecked Sendable {
    public var value: Value
    public init(_ value: Value) { self.value = value }
}
