public import Foundation

/// Starts child processes one at a time. Foundation's `Process.run()` on Linux crashed once in
/// CI (a bad memcpy inside it) while another thread of the test process was starting a child
/// too; tests start every child through here so no two launches overlap. Only the launch is
/// serialized: the children run, and are waited for, concurrently.
public enum ProcessLaunch {
    private static let lock = NSLock()

    public static func run(_ process: Process) throws {
        lock.lock()
        defer { lock.unlock() }
        try process.run()
    }
}
