#if canImport(Glibc)
public import Glibc
#endif

/// A `sockaddr_un` for a filesystem path, as `bind(2)` and `connect(2)` take it.
public struct UnixSocketAddress: Sendable {
    public let path: String
    private var storage = sockaddr_un()

    /// `nil` when the path does not fit `sun_path` (107 bytes and a NUL).
    public init?(path: String) {
        self.path = path
        storage.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard !bytes.isEmpty, bytes.count < MemoryLayout.size(ofValue: storage.sun_path) else { return nil }
        withUnsafeMutableBytes(of: &storage.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
    }

    /// Calls `body` with the address as a `sockaddr` pointer and its length.
    public func withSockAddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        withUnsafePointer(to: storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                body($0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
    }

    /// `connect(2)` of `fd` to this address; the errno on failure.
    public func connect(_ fd: Int32) -> Int32? {
        let rc = withSockAddr { Glibc.connect(fd, $0, $1) }
        return rc == 0 ? nil : errno
    }

    /// `bind(2)` of `fd` to this address; the errno on failure.
    public func bind(_ fd: Int32) -> Int32? {
        let rc = withSockAddr { Glibc.bind(fd, $0, $1) }
        return rc == 0 ? nil : errno
    }
}
