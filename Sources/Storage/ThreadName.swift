import Foundation

/// Names the calling thread as `top -H`, `ps -L` and `/proc/PID/task/*/comm` show it.
///
/// Foundation's `Thread.name` set before `start()` does not reach the kernel on Linux, and
/// `pthread_setname_np` and `prctl` are not visible to Swift there; a thread may write its own
/// `/proc/thread-self/comm`. The kernel keeps at most 15 bytes: the name is cut at a character
/// boundary first.
enum ThreadName {
    static let limit = 15

    static func setCurrent(_ name: String) {
        var bytes = Array(name.utf8.prefix(limit))
        while !bytes.isEmpty, String(validating: bytes, as: UTF8.self) == nil { bytes.removeLast() }
        // A name is a convenience: without /proc the thread keeps the one it inherited.
        try? Data(bytes).write(to: URL(fileURLWithPath: "/proc/thread-self/comm"))
    }

    /// The calling thread's name, as the kernel has it (empty where `/proc` is not mounted).
    static func current() -> String {
        let comm = (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? ""
        return comm.hasSuffix("\n") ? String(comm.dropLast()) : comm
    }
}
