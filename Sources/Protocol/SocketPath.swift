/// Where the control socket lives (PROTOCOL.md "Transport").
public enum SocketPath {
    /// The well-known path owned by `vectortd.socket`.
    public static let systemDefault = "/run/vectortd.sock"

    /// Client order: `--socket`, `$VECTORTD_SOCKET`, `/run/vectortd.sock`.
    public static func forClient(explicit: String?, environment: [String: String]) -> String {
        if let explicit, !explicit.isEmpty { return explicit }
        if let env = environment["VECTORTD_SOCKET"], !env.isEmpty { return env }
        return systemDefault
    }
}
