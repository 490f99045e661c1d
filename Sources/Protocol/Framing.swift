/// The framing of PROTOCOL.md: a u32 big-endian length, then that many bytes of one JSON object.
public enum Framing {
    /// The size of the length prefix.
    public static let headerSize = 4
    /// `control.max_message_bytes` when the configuration does not say otherwise (16 MiB).
    public static let defaultMaxMessageBytes = 16 * 1024 * 1024

    /// What an announced length means, decided from the header alone before any payload is read.
    public enum Announcement: Equatable, Sendable {
        case payload(Int)
        case empty
        case tooLarge(announced: UInt32, limit: Int)
    }

    public static func classify(announced length: UInt32, limit: Int) -> Announcement {
        if length == 0 { return .empty }
        if UInt64(length) > UInt64(limit) { return .tooLarge(announced: length, limit: limit) }
        return .payload(Int(length))
    }

    /// One frame: header and payload.
    public static func frame(_ payload: some Collection<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(headerSize + payload.count)
        appendHeader(UInt32(payload.count), to: &out)
        out.append(contentsOf: payload)
        return out
    }

    public static func appendHeader(_ length: UInt32, to out: inout [UInt8]) {
        out.append(UInt8(truncatingIfNeeded: length >> 24))
        out.append(UInt8(truncatingIfNeeded: length >> 16))
        out.append(UInt8(truncatingIfNeeded: length >> 8))
        out.append(UInt8(truncatingIfNeeded: length))
    }
}

/// A framing violation that ends the connection: the stream is no longer in sync.
public struct FramingError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: Equatable, Sendable {
        case empty
        case tooLarge(announced: UInt32, limit: Int)
    }

    public let kind: Kind

    public init(kind: Kind) {
        self.kind = kind
    }

    public var description: String {
        switch kind {
        case .empty: "frame with length 0"
        case .tooLarge(let announced, let limit): "frame of \(announced) bytes is above the limit of \(limit) bytes"
        }
    }
}

/// An incremental decoder for the length-prefixed framing, free of any I/O.
///
/// Feed it bytes as they arrive, in chunks of any size; take complete payloads out with `next()`.
/// The announced length is checked against the limit as soon as the 4 header bytes are in, so
/// an oversized frame is refused before any of its payload is buffered.
public struct FrameDecoder: Sendable {
    public let maxMessageBytes: Int
    private var buffer: [UInt8] = []
    private var readIndex = 0
    private var failed: FramingError?

    public init(maxMessageBytes: Int = Framing.defaultMaxMessageBytes) {
        self.maxMessageBytes = maxMessageBytes
    }

    /// Bytes received but not yet returned as part of a frame.
    public var bufferedByteCount: Int { buffer.count - readIndex }

    /// Appends received bytes. After a framing error, input is ignored.
    public mutating func feed(_ bytes: some Sequence<UInt8>) {
        guard failed == nil else { return }
        if readIndex > 0 && readIndex == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            readIndex = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next complete payload, `nil` when more bytes are needed.
    /// - Throws: `FramingError` for a 0 or over-limit length; the decoder stays failed.
    public mutating func next() throws(FramingError) -> [UInt8]? {
        if let failed { throw failed }
        guard bufferedByteCount >= Framing.headerSize else { return nil }
        let length =
            UInt32(buffer[readIndex]) << 24 | UInt32(buffer[readIndex + 1]) << 16
            | UInt32(buffer[readIndex + 2]) << 8 | UInt32(buffer[readIndex + 3])
        switch Framing.classify(announced: length, limit: maxMessageBytes) {
        case .empty:
            let error = FramingError(kind: .empty)
            failed = error
            buffer = []
            readIndex = 0
            throw error
        case .tooLarge(let announced, let limit):
            let error = FramingError(kind: .tooLarge(announced: announced, limit: limit))
            failed = error
            buffer = []
            readIndex = 0
            throw error
        case .payload(let count):
            guard bufferedByteCount >= Framing.headerSize + count else { return nil }
            let start = readIndex + Framing.headerSize
            let payload = Array(buffer[start..<start + count])
            readIndex = start + count
            if readIndex == buffer.count {
                buffer.removeAll(keepingCapacity: buffer.capacity <= 64 * 1024)
                readIndex = 0
            } else if readIndex > 64 * 1024 && readIndex * 2 > buffer.count {
                buffer.removeFirst(readIndex)
                readIndex = 0
            }
            return payload
        }
    }
}
