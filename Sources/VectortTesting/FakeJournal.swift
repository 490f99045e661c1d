import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
import VectortCore
#endif

/// A fake journald socket that parses the native protocol, for tests of the journald log handler.
///
/// Each datagram is one entry of `KEY=value\n` fields, or `KEY\n` + u64 little-endian length +
/// bytes + `\n` for values that contain a newline. A datagram too large for the socket arrives
/// as an empty datagram carrying a sealed memfd with the same bytes.
public final class FakeJournal: Sendable {
    public struct Entry: Sendable {
        public var fields: [(name: String, value: [UInt8])]
        /// Names whose value came in the binary (length-prefixed) form.
        public var binaryFields: Set<String>
        /// Whether the entry came through a passed memfd.
        public var viaFileDescriptor: Bool

        public subscript(name: String) -> String? {
            fields.first { $0.name == name }.map { String(decoding: $0.value, as: UTF8.self) }
        }

        public var names: [String] { fields.map(\.name) }
    }

    public struct ParseError: Error, CustomStringConvertible {
        public var description: String
    }

    public let path: String
    private let listener: DatagramListener
    private let received: Locked<[Entry]>
    private let failures: Locked<[String]>

    public init(path: String) throws {
        self.path = path
        let received = Locked<[Entry]>([])
        let failures = Locked<[String]>([])
        self.received = received
        self.failures = failures
        listener = try DatagramListener(path: path) { datagram in
            var bytes = datagram.bytes
            var viaFD = false
            if bytes.isEmpty, let fd = datagram.fds.first {
                bytes = Self.readAll(fd)
                viaFD = true
            }
            do {
                var entry = try Self.parse(bytes)
                entry.viaFileDescriptor = viaFD
                received.withLock { $0.append(entry) }
            } catch {
                failures.withLock { $0.append("\(error)") }
            }
        }
    }

    public var entries: [Entry] { received.withLock { $0 } }

    /// Datagrams that did not parse (a correct client produces none).
    public var parseFailures: [String] { failures.withLock { $0 } }

    public func waitFor(timeout: Duration = Polling.timeout, _ predicate: (Entry) -> Bool) async -> Entry? {
        await Polling.until(timeout: timeout) { entries.first(where: predicate) }
    }

    public func stop() { listener.stop() }

    /// Parses one native-protocol datagram.
    public static func parse(_ bytes: [UInt8]) throws -> Entry {
        var entry = Entry(fields: [], binaryFields: [], viaFileDescriptor: false)
        var i = 0
        while i < bytes.count {
            var j = i
            while j < bytes.count && bytes[j] != UInt8(ascii: "=") && bytes[j] != UInt8(ascii: "\n") { j += 1 }
            guard j < bytes.count else { throw ParseError(description: "field without value at offset \(i)") }
            let name = String(decoding: bytes[i..<j], as: UTF8.self)
            if bytes[j] == UInt8(ascii: "=") {
                var k = j + 1
                while k < bytes.count && bytes[k] != UInt8(ascii: "\n") { k += 1 }
                entry.fields.append((name, Array(bytes[(j + 1)..<k])))
                i = k + 1
            } else {
                let start = j + 1
                guard start + 8 <= bytes.count else { throw ParseError(description: "truncated length of \(name)") }
                var length: UInt64 = 0
                for b in 0..<8 { length |= UInt64(bytes[start + b]) << (8 * UInt64(b)) }
                let valueStart = start + 8
                let valueEnd = valueStart + Int(length)
                guard valueEnd < bytes.count, bytes[valueEnd] == UInt8(ascii: "\n") else {
                    throw ParseError(description: "binary field \(name) is not terminated by a newline")
                }
                entry.fields.append((name, Array(bytes[valueStart..<valueEnd])))
                entry.binaryFields.insert(name)
                i = valueEnd + 1
            }
        }
        return entry
    }

    private static func readAll(_ fd: Int32) -> [UInt8] {
        let size = lseek(fd, 0, SEEK_END)
        guard size > 0 else { return [] }
        var bytes = [UInt8](repeating: 0, count: Int(size))
        let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        return n == size ? bytes : Array(bytes.prefix(max(n, 0)))
    }
}
