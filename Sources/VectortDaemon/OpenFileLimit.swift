import Glibc

/// The open-files limit: each control connection, provider connection and database handle is a
/// descriptor, and the usual soft limit of 1024 runs out long before `control.max_connections`
/// (then `accept` fails and provider calls fail with EMFILE).
enum OpenFileLimit {
    /// Descriptors kept for what is not a control connection: the database and its WAL, the
    /// listeners, provider connections, journald, the event loops.
    static let reserve = 256

    /// Raises the soft limit to the hard one; the limit now in force (nil if it cannot be read).
    static func raiseToHard() -> Int? {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return nil }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return limit.rlim_cur == rlim_t.max ? Int.max : Int(clamping: limit.rlim_cur)
    }

    /// The control connections the limit leaves room for.
    static func connections(allowedBy limit: Int?) -> Int? {
        limit.map { max(1, $0 - reserve) }
    }
}
