import Foundation

/// Directories and the socket path, from flags, systemd's environment, or defaults that work
/// for root and for a normal user without systemd.
struct DaemonPaths: Sendable, Equatable {
    var stateDirectory: String
    var runtimeDirectory: String
    var credentialsDirectory: String?
    /// Where to bind when not socket-activated.
    var socket: String

    struct Flags: Sendable {
        var stateDirectory: String?
        var runtimeDirectory: String?
        var credentialsDirectory: String?
        var socket: String?
    }

    /// Socket order (PROTOCOL.md): inherited (handled by the caller), `--socket`,
    /// `$VECTORTD_SOCKET`, `control.socket`, `$RUNTIME_DIRECTORY/vectortd.sock`, `/run/vectortd.sock`
    /// (or the per-user runtime directory when not root).
    static func resolve(
        flags: Flags, configuredSocket: String?, environment: [String: String], isRoot: Bool, homeDirectory: String
    ) -> DaemonPaths {
        func firstOf(_ list: String?) -> String? {
            guard let list, !list.isEmpty else { return nil }
            return list.split(separator: ":").first.map(String.init)
        }
        func absolute(_ path: String) -> String {
            path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        }
        let userRuntime = environment["XDG_RUNTIME_DIR"].map { "\($0)/vectortd" } ?? "/tmp/vectortd-\(getuid())"
        let userState = (environment["XDG_STATE_HOME"] ?? "\(homeDirectory)/.local/state") + "/vectortd"

        let state = flags.stateDirectory ?? firstOf(environment["STATE_DIRECTORY"])
            ?? (isRoot ? "/var/lib/vectortd" : userState)
        let systemdRuntime = firstOf(environment["RUNTIME_DIRECTORY"])
        let runtime = flags.runtimeDirectory ?? systemdRuntime ?? (isRoot ? "/run/vectortd" : userRuntime)
        let credentials = flags.credentialsDirectory ?? environment["CREDENTIALS_DIRECTORY"]

        let socket: String
        if let s = flags.socket ?? environment["VECTORTD_SOCKET"].flatMap({ $0.isEmpty ? nil : $0 }) ?? configuredSocket {
            socket = s
        } else if flags.runtimeDirectory != nil || systemdRuntime != nil || !isRoot {
            socket = runtime + "/vectortd.sock"
        } else {
            socket = "/run/vectortd.sock"
        }
        return DaemonPaths(
            stateDirectory: absolute(state), runtimeDirectory: absolute(runtime),
            credentialsDirectory: credentials.map(absolute), socket: absolute(socket))
    }

    /// The database file: relative paths are under the state directory.
    func databasePath(_ configured: String) -> String {
        configured.hasPrefix("/") ? configured : stateDirectory + "/" + configured
    }
}
