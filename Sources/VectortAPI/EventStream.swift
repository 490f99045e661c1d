import Engine
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Protocol
import VectortCore

/// `POST /api/projects/{id}/generate` with `Accept: text/event-stream`: the same progress events
/// the socket streams, as server-sent events (`event: <event>` and `data: <json>`), then
/// `event: result` with the final reply or `event: error` with the error body; a `:` comment
/// every second while nothing else is sent keeps proxies from closing an idle stream and finds
/// a client that went away, which cancels the generation and releases its hold (nothing is
/// charged).
enum EventStream {
    enum Item: Sendable {
        case event(String, Data)
        case keepalive
        case result(Data)
        case failure(Data)
    }

    /// How often a `:` comment goes out while nothing else does: it keeps proxies from closing
    /// an idle stream, and a write to a browser that left fails, which cancels the generation
    /// within a second or two of the disconnect.
    static let keepaliveInterval: Duration = .seconds(1)

    static func generation(
        _ run: @escaping @Sendable (_ emit: @escaping GenerationPipeline.Emit) async throws -> GenerationResult
    ) -> Response {
        let body = ResponseBody { writer in
            let (items, continuation) = AsyncStream<Item>.makeStream(bufferingPolicy: .unbounded)
            let generation = Task {
                do {
                    let result = try await run { event in
                        let data = try WireCoding.encoder.encode(event)
                        continuation.yield(.event(event.event.rawValue, data))
                    }
                    continuation.yield(.result(try WireCoding.encoder.encode(result)))
                } catch {
                    continuation.yield(.failure(Self.errorBody(error)))
                }
                continuation.finish()
            }
            let ticker = Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: keepaliveInterval)
                    if Task.isCancelled { break }
                    continuation.yield(.keepalive)
                }
            }
            defer {
                ticker.cancel()
                generation.cancel()
            }
            do {
                for await item in items {
                    try await writer.write(ByteBuffer(string: Self.frame(item)))
                    if case .result = item { break }
                    if case .failure = item { break }
                }
                try await writer.finish(nil)
            } catch {
                // The client went away: the deferred cancel stops the generation.
                throw error
            }
        }
        return Response(
            status: .ok,
            headers: [.contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-store", HTTPField.Name("X-Accel-Buffering")!: "no"],
            body: body)
    }

    static func frame(_ item: Item) -> String {
        switch item {
        case .event(let name, let data): "event: \(name)\ndata: \(String(decoding: data, as: UTF8.self))\n\n"
        case .keepalive: ": keepalive\n\n"
        case .result(let data): "event: result\ndata: \(String(decoding: data, as: UTF8.self))\n\n"
        case .failure(let data): "event: error\ndata: \(String(decoding: data, as: UTF8.self))\n\n"
        }
    }

    /// The API's error body for what a generation threw.
    static func errorBody(_ error: any Error) -> Data {
        let wire: WireError =
            switch error {
            case let error as EngineError: error.wireError
            case let error as any WireConvertibleError: error.wireError
            case is CancellationError: WireError(.cancelled, "the generation was cancelled", [:])
            default: .internal(reference: Identifiers.make("err"))
            }
        let body: JSONValue = ["error": ["code": .string(wire.name.rawValue), "message": .string(wire.message), "parameters": .object(wire.details)]]
        return (try? WireCoding.encoder.encode(body)) ?? Data("{}".utf8)
    }
}
