import Foundation
import Logging
import NIOCore
import Protocol

/// Replies as length-prefixed frames: the hot ones written by hand around their parameters,
/// the rest through the wire encoder.
enum ReplyFraming {
    /// The frame of a reply; an encoding failure becomes an Internal error reply.
    static func frameOrInternalError(
        _ reply: CallReply.Encoded, method: String, logger: Logger, encoder: JSONEncoder = WireCoding.encoder
    ) -> ByteBuffer {
        do {
            return try encodeFrame(reply, encoder: encoder)
        } catch {
            let wire = ErrorReplies.wireError(for: error, method: method, logger: logger)
            return try! encodeFrame(.failure(wire), encoder: encoder)
        }
    }

    static func encodeFrame(_ reply: CallReply.Encoded, encoder: JSONEncoder = WireCoding.encoder) throws
        -> ByteBuffer
    {
        // Success replies are framed by hand around the encoded parameters: one less level of
        // Codable containers on the hot path. Key order stays sorted, as the encoder's.
        let prefix: StaticString
        let body: Data
        switch reply {
        case .success(let parameters):
            prefix = "{\"parameters\":"
            if let bytes = handWritten(parameters) { return frame(prefix, bytes) }
            body = try encoder.encode(parameters)
        case .continued(let parameters):
            prefix = "{\"continues\":true,\"parameters\":"
            if let bytes = handWritten(parameters) { return frame(prefix, bytes) }
            body = try encoder.encode(parameters)
        case .failure:
            let data = try encoder.encode(reply)
            var buffer = ByteBufferAllocator().buffer(capacity: data.count + Framing.headerSize)
            buffer.writeInteger(UInt32(data.count), endianness: .big)
            buffer.writeBytes(data)
            return buffer
        }
        return frame(prefix, body)
    }

    /// The JSON of the replies sent most often (a generation's events, balances, holds), written
    /// by hand; nil for the others and for a value that leaves itself to the encoder.
    private static func handWritten(_ parameters: any Encodable & Sendable) -> [UInt8]? {
        guard let writable = parameters as? any WireJSONWritable else { return nil }
        var writer = WireJSONWriter()
        return writable.writeWireJSON(&writer) ? writer.bytes : nil
    }

    /// `prefix`, the parameters' JSON and a closing brace, after the length header.
    private static func frame(_ prefix: StaticString, _ body: some Collection<UInt8>) -> ByteBuffer {
        let length = prefix.utf8CodeUnitCount + body.count + 1
        var buffer = ByteBufferAllocator().buffer(capacity: length + Framing.headerSize)
        buffer.writeInteger(UInt32(length), endianness: .big)
        buffer.writeStaticString(prefix)
        buffer.writeBytes(body)
        buffer.writeInteger(UInt8(ascii: "}"))
        return buffer
    }
}

extension CallReply {
    /// A reply as the server encodes it: typed parameters, encoded once, straight to the frame.
    enum Encoded: Encodable, Sendable {
        case success(any Encodable & Sendable)
        case continued(any Encodable & Sendable)
        case failure(WireError)

        private enum Keys: String, CodingKey {
            case parameters, continues, error
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Keys.self)
            switch self {
            case .success(let parameters):
                try container.encode(parameters, forKey: .parameters)
            case .continued(let parameters):
                try container.encode(parameters, forKey: .parameters)
                try container.encode(true, forKey: .continues)
            case .failure(let error):
                try container.encode(error.name, forKey: .error)
                try container.encode(error.parameters, forKey: .parameters)
            }
        }
    }
}
