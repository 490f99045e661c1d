import CSystemd
import Glibc

/// Listening sockets handed over by systemd (`LISTEN_FDS`, `LISTEN_FDNAMES`).
struct SocketActivation: Sendable, Equatable {
    /// The control socket: the fd named `control`, or the only fd when it has no name.
    var control: Int32?
    /// The webhook listener (`FileDescriptorName=webhook`), reserved for the webhook issue.
    var webhook: Int32?
    /// Names of fds we were given but do not use; closed.
    var ignored: [String] = []

    struct Error: Swift.Error, CustomStringConvertible {
        var description: String
    }

    /// Reads and unsets the `LISTEN_*` variables so that child processes do not inherit them.
    static func fromEnvironment() throws -> SocketActivation {
        var names: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
        let count = sd_listen_fds_with_names(1, &names)
        if count < 0 {
            throw Error(description: "invalid LISTEN_FDS: \(String(cString: strerror(-count)))")
        }
        defer {
            if let names {
                for i in 0..<Int(count) { free(names[i]) }
                free(names)
            }
        }
        var result = SocketActivation()
        for i in 0..<Int(count) {
            let fd = SD_LISTEN_FDS_START + Int32(i)
            let name = names?[i].map { String(cString: $0) } ?? "unknown"
            switch name {
            case _ where name == "control" || (name == "unknown" && count == 1):
                guard sd_is_socket_unix(fd, Int32(SOCK_STREAM.rawValue), 1, nil, 0) > 0 else {
                    throw Error(description: "inherited fd \(fd) named \(name) is not a listening AF_UNIX stream socket")
                }
                result.control = fd
            case "webhook":
                result.webhook = fd
            default:
                result.ignored.append(name)
                close(fd)
            }
        }
        return result
    }
}
