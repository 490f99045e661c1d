import CDispatch
import Foundation
import CoreFoundation
import Synchronization
import VectortCore

/// A fake `$NOTIFY_SOCKET`: records every sd_notify message the daemon sends.
public final class NotifySocket: Sendable {
    /// One datagram: its `KEY=VALUE` lines in order.
    public struct Message: Sendable, CustomStringConvertible {
        public var fields: [(key: String, value: String)]
        public var receivedAt: ContinuousClock.Instant
        /// Kernel receive time, nanoseconds since the epoch (CLOCK_REALTIME).
        public var kernelNanoseconds: Int64?

        public subscript(key: String) -> String? { fields.first { $0.key == key }?.value }

        public var description: String { fields.map { "\($0.key)=\($0.value)" }.joined(separator: "\\n") }
    }

    public let path: String
    private let listener: DatagramListener
    private let received: Locked<[Message]>

    public init(path: String) throws {
        self.path = path
        let received = Locked<[Message]>([])
        self.received = received
        listener = try DatagramListener(path: path) { datagram in
            let text = String(decoding: datagram.bytes, as: UTF8.self)
            let fields = text.split(separator: "\n").map { line -> (key: String, value: String) in
                guard let eq = line.firstIndex(of: "=") else { return (String(line), "") }
                return (String(line[..<eq]), String(line[line.index(after: eq)...]))
            }
            let kernel = datagram.kernelTime.map { Int64($0.tv_sec) * 1_000_000_000 + Int64($0.tv_nsec) }
            received.withLock {
                $0.append(Message(fields: fields, receivedAt: datagram.receivedAt, kernelNanoseconds: kernel))
            }
        }
    }

    public var messages: [Message] { received.withLock { $0 } }

    /// Waits until a message satisfies `predicate`; returns it, or nil after `timeout`.
    public func waitFor(
        timeout: Duration = Polling.timeout, _ predicate: (Message) -> Bool
    ) async -> Message? {
        await Polling.until(timeout: timeout) { messages.first(where: predicate) }
    }

    /// Waits for a message carrying `key=value`.
    public func waitFor(_ key: String, _ value: String, after index: Int = 0, timeout: Duration = Polling.timeout)
        async -> Message?
    {
        await Polling.until(timeout: timeout) {
            let all = messages
            return index < all.count ? all[index...].first(where: { $0[key] == value }) : nil
        }
    }

    public func stop() { listener.stop() }

    /// CLOCK_REALTIME now in nanoseconds, to compare with `Message.kernelNanoseconds`.
    public static func realtimeNanoseconds() -> Int64 {
        let now = realtimeNow()
        return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
    }
}
