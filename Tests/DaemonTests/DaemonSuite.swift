import Testing

/// Every test that runs the real binaries. They run one at a time: each starts processes and
/// makes blocking socket calls, and the machine may have two cores.
@Suite("Real daemon and CLI", .serialized)
enum DaemonSuite {}
