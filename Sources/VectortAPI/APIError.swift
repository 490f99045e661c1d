import Foundation
import Logging
import HTTPTypes
import Hummingbird
import NIOCore
import Protocol
import VectortCore

/// An error as the web API answers it: `{"error": {"code", "message", "parameters"}}` with the
/// HTTP status its name maps to.
struct APIError: Error {
    var status: Int
    var wire: WireError
    var headers: HTTPFields = [:]

    static let unauthenticatedName = ErrorName(rawValue: "io.vectort.Unauthenticated")

    static func unauthenticated(_ message: String) -> APIError {
        APIError(status: 401, wire: WireError(unauthenticatedName, message, [:]), headers: [.wwwAuthenticate: "Bearer"])
    }

    static func notFound(_ path: String) -> APIError {
        APIError(status: 404, wire: WireError(.notFound, "no route \(path)", ["kind": "route"]))
    }

    static func badJSON(_ message: String) -> APIError {
        APIError(status: 400, wire: WireError(.invalidMessage, message, [:]))
    }

    static func tooLarge(_ limit: Int) -> APIError {
        APIError(status: 413, wire: .messageTooLarge(limit: limit))
    }

    static func rateLimited(retryAfter seconds: Int) -> APIError {
        APIError(
            status: 429,
            wire: WireError(.rateLimited, "too many attempts; try again in \(seconds) s", ["retry_after_seconds": .int(Int64(seconds))]),
            headers: [.retryAfter: String(seconds)])
    }

    /// The status of an engine error, by its name (the table in docs/protocol.md, "Web API").
    static func status(of name: ErrorName) -> Int {
        switch name {
        case .invalidMessage, .invalidParameter: 400
        case unauthenticatedName: 401
        case .insufficientCredits: 402
        case .permissionDenied: 403
        case .notFound, .methodNotFound: 404
        case .alreadyExists, .conflict: 409
        case .messageTooLarge: 413
        case .generationFailed, .nothingChanged: 422
        case .rateLimited: 429
        case .unavailable: 503
        case .timeout: 504
        case .cancelled: 499
        default: 500
        }
    }

    init(status: Int, wire: WireError, headers: HTTPFields = [:]) {
        self.status = status
        self.wire = wire
        self.headers = headers
    }

    init(_ wire: WireError) {
        self.init(status: Self.status(of: wire.name), wire: wire)
        if let seconds = wire.details["retry_after_seconds"].flatMap(Self.seconds) {
            headers[.retryAfter] = String(seconds)
        }
    }

    private static func seconds(_ value: JSONValue) -> Int? {
        switch value {
        case .int(let n): Int(n)
        case .double(let d): Int(d.rounded(.up))
        default: nil
        }
    }

    var response: Response {
        let body: JSONValue = ["error": ["code": .string(wire.name.rawValue), "message": .string(wire.message), "parameters": .object(wire.details)]]
        var response = APIJSON.response(status, body)
        for field in headers { response.headers.append(field) }
        return response
    }
}

/// JSON in and out, as the socket's replies: sorted keys, no escaped slashes.
enum APIJSON {
    static func response(_ status: Int, _ value: some Encodable) -> Response {
        let data = (try? WireCoding.encoder.encode(value)) ?? Data("{}".utf8)
        return Response(
            status: .init(code: status), headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func empty(_ status: Int) -> Response {
        Response(status: .init(code: status))
    }
}

/// Turns whatever a route throws into the API's error body; an unexpected error is a 500 with a
/// reference into the log, never its text.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = APIContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return error.response
        } catch let error as EngineError {
            return APIError(error.wireError).response
        } catch let error as any WireConvertibleError {
            return APIError(error.wireError).response
        } catch let error as HTTPError {
            let name: ErrorName = error.status.code == 404 ? .notFound : error.status.code == 413 ? .messageTooLarge : .invalidMessage
            return APIError(status: Int(error.status.code), wire: WireError(name, error.body ?? error.status.reasonPhrase, [:])).response
        } catch is CancellationError {
            return APIError(status: 499, wire: WireError(.cancelled, "the request was cancelled", [:])).response
        } catch {
            let reference = Identifiers.make("err")
            context.logger.error("web API request failed", metadata: ["error": "\(error)", "reference": "\(reference)"])
            return APIError(status: 500, wire: .internal(reference: reference)).response
        }
    }
}
