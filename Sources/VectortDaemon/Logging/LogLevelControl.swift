import Logging
import Synchronization

/// The daemon-wide log level, shared by every handler so that a reload can change it live.
final class LogLevelControl: Sendable {
    private let raw: Atomic<Int>

    init(_ level: Logger.Level) {
        raw = Atomic(Self.index(level))
    }

    var level: Logger.Level {
        get { Logger.Level.allCases[raw.load(ordering: .relaxed)] }
        set { raw.store(Self.index(newValue), ordering: .relaxed) }
    }

    private static func index(_ level: Logger.Level) -> Int {
        Logger.Level.allCases.firstIndex(of: level)!
    }
}
