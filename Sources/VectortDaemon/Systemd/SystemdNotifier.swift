import CDispatch
import CSystemd
import Foundation
import CoreFoundation  // owns struct stat and timespec once swift-crypto's C modules are in the build
import Glibc

/// Sends sd_notify(3) messages to the service manager; a no-op when `$NOTIFY_SOCKET` is unset.
struct SystemdNotifier: Sendable {
    /// Whether a service manager listens at all.
    var isEnabled: Bool { ProcessInfo.processInfo.environment["NOTIFY_SOCKET"] != nil }

    /// Sends one datagram of newline-separated `KEY=VALUE` lines.
    func send(_ fields: [String: String], order: [String]) {
        guard isEnabled else { return }
        let lines = order.compactMap { key in fields[key].map { "\(key)=\(Self.singleLine($0))" } }
        _ = sd_notify(0, lines.joined(separator: "\n"))
    }

    func ready(status: String) {
        send(["READY": "1", "STATUS": status], order: ["READY", "STATUS"])
    }

    func status(_ text: String) {
        send(["STATUS": text], order: ["STATUS"])
    }

    func reloading(status: String) {
        send(
            ["RELOADING": "1", "MONOTONIC_USEC": String(Self.monotonicMicroseconds()), "STATUS": status],
            order: ["RELOADING", "MONOTONIC_USEC", "STATUS"])
    }

    func stopping(status: String) {
        send(["STOPPING": "1", "STATUS": status], order: ["STOPPING", "STATUS"])
    }

    func watchdogPing() {
        send(["WATCHDOG": "1"], order: ["WATCHDOG"])
    }

    /// Reported before exiting on a start-up failure.
    func failed(status: String, errno code: Int32?) {
        var fields = ["STATUS": status]
        if let code { fields["ERRNO"] = String(code) }
        send(fields, order: ["STATUS", "ERRNO"])
    }

    /// The watchdog interval systemd expects pings within, when the watchdog is on for this process.
    func watchdogInterval() -> Duration? {
        var usec: UInt64 = 0
        guard sd_watchdog_enabled(0, &usec) > 0, usec > 0 else { return nil }
        return .microseconds(Int64(usec))
    }

    static func monotonicMicroseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000 + UInt64(ts.tv_nsec) / 1000
    }

    /// STATUS= is one line; newlines would start a new field.
    private static func singleLine(_ text: String) -> String {
        text.replacingOccurrences(of: "\n", with: " ")
    }
}
