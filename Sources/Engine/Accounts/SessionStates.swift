import Foundation
public import Protocol
import VectortCore

/// What decides whether a user's web sessions still count, kept in memory so an authenticated
/// request needs no database read: the user (its status), the time before which its sessions
/// are void, and its revoked sessions. Every change of these goes through `Users`, which
/// invalidates the user's entry in the same call; a read that began before an invalidation
/// never stores what it read (a version per user), so a logout or a disable counts at once.
/// Per process: several nodes on one database (the scale-out issue) must invalidate through
/// the database instead.
final class SessionStates: Sendable {
    struct Entry: Sendable {
        var user: User
        var sessionsAfter: Date?
        var revoked: Set<String>
    }

    private struct State {
        var entries: [String: Entry] = [:]
        var versions: [String: UInt64] = [:]
        var epoch: UInt64 = 0
    }

    private let state = Locked(State())
    static let capacity = 100_000

    func entry(_ user: String) -> Entry? { state.withLock { $0.entries[user] } }

    /// The version a read must still see when it stores what it read.
    func version(_ user: String) -> UInt64 { state.withLock { $0.versions[user] ?? $0.epoch } }

    func store(_ user: String, _ entry: Entry, ifStill version: UInt64) {
        state.withLock { state in
            guard (state.versions[user] ?? state.epoch) == version else { return }
            if state.entries.count >= Self.capacity {
                // Forget everything, and make every read in flight stale too.
                state.entries.removeAll(keepingCapacity: true)
                state.versions.removeAll(keepingCapacity: true)
                state.epoch &+= 1
                return
            }
            state.entries[user] = entry
        }
    }

    func invalidate(_ user: String) {
        state.withLock { state in
            state.entries[user] = nil
            state.versions[user] = (state.versions[user] ?? state.epoch) &+ 1
        }
    }
}
