/// Polls until something shows up, for the fakes' `waitFor`/`waitUntil`.
public enum Polling {
    /// The default wait. It is long because only a failure waits it out: a full test run on two
    /// cores (daemons, browsers and a PostgreSQL server beside the tests) has held a test back
    /// for more than 30 s, and no helper built on this waits for something not to happen.
    public static let timeout: Duration = .seconds(180)

    /// Calls `probe` every `interval` until it returns a value, and once more at the deadline;
    /// nil if it never did.
    public static func until<T>(
        timeout: Duration = timeout, every interval: Duration = .milliseconds(5), _ probe: () -> T?
    ) async -> T? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let found = probe() { return found }
            try? await Task.sleep(for: interval)
        }
        return probe()
    }
}
