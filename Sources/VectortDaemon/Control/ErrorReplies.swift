import Foundation
import Logging
import Protocol

/// The one place where any error becomes a wire error.
enum ErrorReplies {
    static func wireError(for error: any Error, method: String, logger: Logger) -> WireError {
        switch error {
        case let wire as WireError:
            return wire
        case let convertible as any WireConvertibleError:
            return convertible.wireError
        case is CancellationError:
            return .unavailable("the call was cancelled (vectortd is shutting down)")
        default:
            let reference = String(UUID().uuidString.prefix(8)).lowercased()
            logger.error(
                "call failed with an internal error",
                metadata: ["method": "\(method)", "error.reference": "\(reference)", "error": "\(error)"])
            return .internal(reference: reference)
        }
    }
}
