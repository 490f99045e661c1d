import Foundation
import GRDB
import Synchronization
import VectortCore

/// Copies the WAL back into the database file on its own connection and thread, so the ledger
/// writer does not pay for checkpoints inside its commits.
///
/// SQLite's automatic checkpoint runs in the committing connection once the WAL passes 1,000
/// pages; under load that put a checkpoint (a copy of every changed page and an fsync of the
/// database file) into the writer's critical path every few batches. The writer now asks this
/// checkpointer for a PASSIVE checkpoint every few batches; PASSIVE never blocks the writer or
/// readers. The writer's own automatic checkpoint stays on at a higher threshold as a fallback,
/// should this thread fall behind.
final class Checkpointer: Sendable {
    /// The writer's fallback threshold in pages (SQLite's default is 1,000).
    static let writerFallbackPages = 10_000
    /// The thread's name in `top -H` and `/proc` (the kernel keeps 15 bytes).
    static let threadName = "vectortd-ckpt"

    private let queue: DatabaseQueue?
    private let wake = DispatchSemaphore(value: 0)
    private let state = Mutex((requested: false, stopped: false))

    init(path: String) {
        var configuration = Configuration()
        configuration.label = "vectortd-checkpointer"
        configuration.busyMode = .timeout(1)
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        // Without its connection the writer's fallback checkpoints still keep the WAL bounded.
        queue = try? DatabaseQueue(path: path, configuration: configuration)
        guard queue != nil else { return }
        let thread = Thread { [self] in
            ThreadName.setCurrent(Self.threadName)
            loop()
        }
        thread.start()
    }

    /// Asks for a checkpoint; a request while one is pending or running is merged into it.
    func request() {
        let signal = state.withLock { state -> Bool in
            if state.requested || state.stopped { return false }
            state.requested = true
            return true
        }
        if signal { wake.signal() }
    }

    func stop() {
        let signal = state.withLock { state -> Bool in
            if state.stopped { return false }
            state.stopped = true
            return !state.requested
        }
        if signal { wake.signal() }
    }

    private func loop() {
        guard let queue else { return }
        while true {
            wake.wait()
            let stopped = state.withLock { state -> Bool in
                state.requested = false
                return state.stopped
            }
            if stopped { break }
            // A busy or locked database only means the next request tries again.
            try? queue.writeWithoutTransaction { db in _ = try db.checkpoint(.passive) }
        }
        try? queue.close()
    }
}
