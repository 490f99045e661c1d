import CDispatch
import Foundation
import Protocol
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// An AF_UNIX datagram socket read on a background thread; the base of the fake notify and
/// journal sockets. Received file descriptors (SCM_RIGHTS) are handed to `onDatagram` and then
/// closed, as systemd does: `systemd-notify`'s BARRIER=1 waits until its fd is closed.
final class DatagramListener: Sendable {
    struct Datagram: Sendable {
        var bytes: [UInt8]
        var fds: [Int32]
        var pid: Int32?
        var receivedAt: ContinuousClock.Instant
        /// When the kernel queued the datagram (SO_TIMESTAMPNS): ordering evidence that does
        /// not depend on when this thread got to run.
        var kernelTime: timespec?
    }

    let path: String
    private let fd: Int32
    private let stopped = StopFlag()

    final class StopFlag: Sendable {
        private let flag = Atomic<Bool>(false)
        var isSet: Bool { flag.load(ordering: .relaxed) }
        /// Sets the flag; true when this call was the one that set it.
        func set() -> Bool { !flag.exchange(true, ordering: .relaxed) }
    }

    init(path: String, onDatagram: @escaping @Sendable (Datagram) -> Void) throws {
        self.path = path
        unlink(path)
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        var on: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &on, socklen_t(MemoryLayout<Int32>.size))
        setsockopt(fd, SOL_SOCKET, soTimestampNS, &on, socklen_t(MemoryLayout<Int32>.size))
        var size: Int32 = 8 * 1024 * 1024
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        if let code = UnixSocketAddress(path: path).map({ $0.bind(fd) }) ?? ENAMETOOLONG {
            close(fd)
            throw POSIXError(POSIXErrorCode(rawValue: code) ?? .EIO)
        }
        chmod(path, 0o666)
        self.fd = fd
        let stopped = self.stopped
        let worker = Thread {
            Self.receiveLoop(fd: fd, stopped: stopped, onDatagram: onDatagram)
        }
        worker.start()
    }

    func stop() {
        guard stopped.set() else { return }
        // The loop wakes up within its receive timeout and closes the socket.
        unlink(path)
    }

    deinit {
        stop()
    }

    private static func receiveLoop(
        fd: Int32, stopped: StopFlag, onDatagram: @Sendable (Datagram) -> Void
    ) {
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var control = [UInt8](repeating: 0, count: 4096)
        while !stopped.isSet {
            var iov = iovec()
            var header = msghdr()
            let n: Int = buffer.withUnsafeMutableBytes { data in
                control.withUnsafeMutableBytes { controlBytes in
                    iov.iov_base = data.baseAddress
                    iov.iov_len = data.count
                    return withUnsafeMutablePointer(to: &iov) { iovPointer in
                        header.msg_iov = iovPointer
                        header.msg_iovlen = 1
                        header.msg_control = controlBytes.baseAddress
                        header.msg_controllen = controlBytes.count
                        return recvmsg(fd, &header, Int32(MSG_CMSG_CLOEXEC))
                    }
                }
            }
            if n < 0 { continue }
            var fds: [Int32] = []
            var pid: Int32?
            var kernelTime: timespec?
            control.withUnsafeMutableBytes { controlBytes in
                header.msg_control = controlBytes.baseAddress
                var cmsg = CMSG_FIRSTHDR_(&header)
                while let c = cmsg {
                    let dataPointer = UnsafeMutableRawPointer(c) + MemoryLayout<cmsghdr>.size
                    let dataLength = Int(c.pointee.cmsg_len) - MemoryLayout<cmsghdr>.size
                    if c.pointee.cmsg_level == SOL_SOCKET && c.pointee.cmsg_type == Int32(SCM_RIGHTS) {
                        for i in 0..<(dataLength / MemoryLayout<Int32>.size) {
                            fds.append(dataPointer.load(fromByteOffset: i * 4, as: Int32.self))
                        }
                    } else if c.pointee.cmsg_level == SOL_SOCKET && c.pointee.cmsg_type == 2 /* SCM_CREDENTIALS */ {
                        pid = dataPointer.load(as: Int32.self)
                    } else if c.pointee.cmsg_level == SOL_SOCKET && c.pointee.cmsg_type == soTimestampNS {
                        kernelTime = dataPointer.loadUnaligned(as: timespec.self)
                    }
                    cmsg = CMSG_NXTHDR_(&header, c)
                }
            }
            onDatagram(Datagram(bytes: Array(buffer[0..<n]), fds: fds, pid: pid, receivedAt: .now, kernelTime: kernelTime))
            for received in fds { close(received) }
        }
        close(fd)
    }
}

/// SO_TIMESTAMPNS (= SCM_TIMESTAMPNS) on Linux; not imported by Swift.
private let soTimestampNS: Int32 = 35

/// CLOCK_REALTIME now, comparable with `Datagram.kernelTime`.
func realtimeNow() -> timespec {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return now
}

// Glibc's CMSG_* are macros that Swift does not import.
private func CMSG_FIRSTHDR_(_ header: UnsafeMutablePointer<msghdr>) -> UnsafeMutablePointer<cmsghdr>? {
    guard header.pointee.msg_controllen >= MemoryLayout<cmsghdr>.size else { return nil }
    return header.pointee.msg_control?.assumingMemoryBound(to: cmsghdr.self)
}

private func CMSG_NXTHDR_(
    _ header: UnsafeMutablePointer<msghdr>, _ current: UnsafeMutablePointer<cmsghdr>
) -> UnsafeMutablePointer<cmsghdr>? {
    let align = MemoryLayout<Int>.size
    let length = (Int(current.pointee.cmsg_len) + align - 1) & ~(align - 1)
    let next = UnsafeMutableRawPointer(current) + length
    let end = header.pointee.msg_control! + header.pointee.msg_controllen
    guard next + MemoryLayout<cmsghdr>.size <= end else { return nil }
    let candidate = next.assumingMemoryBound(to: cmsghdr.self)
    guard next + Int(candidate.pointee.cmsg_len) <= end else { return nil }
    return candidate
}
