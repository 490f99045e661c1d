import Protocol

/// The one table from failures to exit codes (documented in `vectortctl --help`).
enum ExitCodes {
    static let ok: Int32 = 0
    static let failure: Int32 = 1
    static let daemonError: Int32 = 2
    static let notReachable: Int32 = 3
    static let permissionDenied: Int32 = 4
    static let timeout: Int32 = 5
    static let usage: Int32 = 64

    static func code(for error: VectortClientError) -> Int32 {
        if let wire = error.remoteError {
            return switch wire.name {
            case .permissionDenied: permissionDenied
            case .timeout: timeout
            default: daemonError
            }
        }
        return switch error.code {
        case .notRunning: notReachable
        case .permissionDenied: permissionDenied
        case .timeout: timeout
        default: failure
        }
    }
}
