public import Foundation
public import Protocol

/// A deploy job's decisions as a value without I/O: each event moves its state and says what
/// to do next. The runner persists the state before it acts, so a restart resumes where the
/// job was: a job found `uploading` without a platform id may have been created just before a
/// crash, so it is looked up, never created again blindly.
public struct DeploymentMachine: Sendable, Equatable {
    public enum Event: Sendable, Equatable {
        /// The runner takes the job up (at start, or after a restart).
        case resume
        /// The platform accepted the deployment.
        case created(platformID: String)
        /// Looking the deployment up after a restart found none: it was never created.
        case notFound
        /// What polling the platform said.
        case remote(Remote, url: String?, reason: String?)
        /// A transient failure (network, 5xx, 429): try again later.
        case transient
        /// A failure retrying cannot fix (a refused token, a refused request).
        case refused(reason: String)
        case cancel
    }

    /// A platform's state, mapped.
    public enum Remote: Sendable, Equatable {
        case pending, building, ready, failed, cancelled
    }

    public enum Action: Sendable, Equatable {
        case create
        case lookup
        case poll(after: Duration)
        case cancelRemote
        case none
    }

    public var state: DeploymentState
    public var platformID: String?
    public var url: String?
    public var reason: String?
    public var createdAt: Date
    public var lastProgress: Date
    /// Polls made since the last change, for the schedule.
    public var polls: Int
    /// Fails the job when nothing changed for this long.
    public var stuckAfter: Duration
    /// Fails the job past this age.
    public var deadline: Duration

    public init(
        state: DeploymentState = .queued, platformID: String? = nil, createdAt: Date, lastProgress: Date? = nil, polls: Int = 0,
        stuckAfter: Duration, deadline: Duration
    ) {
        self.state = state
        self.platformID = platformID
        self.createdAt = createdAt
        self.lastProgress = lastProgress ?? createdAt
        self.polls = polls
        self.stuckAfter = stuckAfter
        self.deadline = deadline
    }

    /// 2 s, 5 s, 10 s, then 20 to 30 s (`jitter` in 0...1 picks where).
    public static func delay(afterPolls polls: Int, jitter: Double) -> Duration {
        switch polls {
        case 0: return .seconds(2)
        case 1: return .seconds(5)
        case 2: return .seconds(10)
        default: return .milliseconds(Int64(20_000 + 10_000 * min(max(jitter, 0), 1)))
        }
    }

    public mutating func handle(_ event: Event, now: Date, jitter: Double = 0.5) -> Action {
        guard !state.isTerminal else { return .none }
        if case .cancel = event {
            state = .cancelled
            return platformID == nil ? .none : .cancelRemote
        }
        if now.timeIntervalSince(createdAt) > Self.seconds(deadline) {
            return fail("deadline_exceeded")
        }
        switch event {
        case .resume:
            if platformID != nil { return .poll(after: .zero) }
            if state == .queued {
                state = .uploading
                progress(now)
                return .create
            }
            return .lookup
        case .notFound:
            return .create
        case .created(let id):
            platformID = id
            state = .building
            progress(now)
            return .poll(after: Self.delay(afterPolls: 0, jitter: jitter))
        case .remote(let remote, let url, let reason):
            switch remote {
            case .ready:
                state = .live
                self.url = url
                progress(now)
                return .none
            case .failed:
                return fail(reason ?? "the platform reported an error")
            case .cancelled:
                state = .cancelled
                reason.map { self.reason = $0 }
                return .none
            case .pending, .building:
                let next: DeploymentState = remote == .building ? .building : state
                if next != state {
                    state = next
                    progress(now)
                } else {
                    polls += 1
                }
                if now.timeIntervalSince(lastProgress) > Self.seconds(stuckAfter) { return fail("stuck") }
                return .poll(after: Self.delay(afterPolls: polls, jitter: jitter))
            }
        case .transient:
            polls += 1
            if now.timeIntervalSince(lastProgress) > Self.seconds(stuckAfter) { return fail("stuck") }
            return .poll(after: Self.delay(afterPolls: polls, jitter: jitter))
        case .refused(let reason):
            return fail(reason)
        case .cancel:
            return .none
        }
    }

    public static func seconds(_ duration: Duration) -> TimeInterval {
        let (seconds, attoseconds) = duration.components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }

    private mutating func progress(_ now: Date) {
        lastProgress = now
        polls = 0
    }

    private mutating func fail(_ why: String) -> Action {
        state = .failed
        reason = why
        return .none
    }
}
