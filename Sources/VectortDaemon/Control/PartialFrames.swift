import NIOCore
import Synchronization

/// The daemon-wide budget for frames that have started to arrive and are not complete yet
/// (`control.max_partial_frame_bytes`). A frame's announced length is reserved when its header
/// is in and its payload is not, and given back when it completes or its connection ends, so
/// 1,024 connections that each announce 16 MiB and stall cannot pin 16 GiB between them.
final class PartialFrameBudget: Sendable {
    private let reserved = Atomic<Int>(0)
    private let limitBox: Atomic<Int>

    init(limit: Int) {
        limitBox = Atomic(limit)
    }

    var limit: Int {
        get { limitBox.load(ordering: .relaxed) }
        set { limitBox.store(newValue, ordering: .relaxed) }
    }

    /// Bytes reserved now, by every connection.
    var inUse: Int { reserved.load(ordering: .relaxed) }

    /// Reserves `bytes`, or returns false (reserving nothing) when that would pass the limit.
    func reserve(_ bytes: Int) -> Bool {
        var current = reserved.load(ordering: .relaxed)
        while true {
            guard current + bytes <= limit else { return false }
            let (exchanged, original) = reserved.compareExchange(
                expected: current, desired: current + bytes, ordering: .relaxed)
            if exchanged { return true }
            current = original
        }
    }

    func release(_ bytes: Int) {
        guard bytes > 0 else { return }
        reserved.subtract(bytes, ordering: .relaxed)
    }
}

/// What one connection's decoder knows about the frame it is in the middle of, shared with the
/// connection's handler on the same event loop: when the frame began (for the frame timeout)
/// and what it reserved of the daemon-wide budget.
final class PartialFrameTracker {
    private let budget: PartialFrameBudget?
    /// When the frame now arriving began to arrive; nil between frames.
    private(set) var startedAt: NIODeadline?
    /// Bytes of the budget this connection holds.
    private(set) var reserved = 0
    /// Called when a frame begins to arrive and stays incomplete.
    var onStart: (() -> Void)?
    /// The handler gave up on the connection's input: the decoder discards every byte.
    var discarding = false
    /// The connection's event loop's time (virtual on a test loop).
    var now: () -> NIODeadline = { .now() }

    init(budget: PartialFrameBudget?) {
        self.budget = budget
    }

    /// The buffer holds the start of a frame and not all of it. `announced` is its payload
    /// length once the header is in. False when the budget cannot hold it.
    func incomplete(announced: Int?) -> Bool {
        if startedAt == nil {
            startedAt = now()
            onStart?()
        }
        guard let announced, reserved == 0 else { return true }
        guard let budget else { return true }
        let bytes = announced + 4
        guard budget.reserve(bytes) else { return false }
        reserved = bytes
        return true
    }

    /// The frame is complete (or the connection's input ended).
    func ended() {
        guard startedAt != nil else { return }
        startedAt = nil
        budget?.release(reserved)
        reserved = 0
    }

    /// The frame's clock starts again: the connection held its reads, so the peer could not send.
    func restartClock() {
        if startedAt != nil { startedAt = now() }
    }
}
