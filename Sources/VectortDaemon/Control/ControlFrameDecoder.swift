import NIOCore
import Protocol

/// What the decoder hands to the connection handler.
enum ControlFrame: Equatable {
    /// One complete payload (the length prefix removed).
    case payload(ByteBuffer)
    /// The stream broke the framing rules; nothing after it is read.
    case violation(FramingError)
    /// A frame began that the daemon-wide budget for partly received frames cannot hold;
    /// nothing after it is read.
    case overBudget
}

/// The length-prefixed framing of PROTOCOL.md as a NIO decoder.
///
/// The announced length is checked as soon as the header is in: a frame of length 0 or above
/// `maxMessageBytes` produces one `.violation` and every later byte is discarded, so the
/// announced payload is never buffered.
///
/// A frame that stays incomplete is reported to the `tracker` (the frame timeout starts, and
/// its announced length is reserved from the daemon-wide budget).
struct ControlFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = ControlFrame

    let maxMessageBytes: Int
    private let tracker: PartialFrameTracker?
    private var failed = false

    init(maxMessageBytes: Int, tracker: PartialFrameTracker? = nil) {
        self.maxMessageBytes = maxMessageBytes
        self.tracker = tracker
    }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = next(&buffer) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return failed ? .needMoreData : .continue
    }

    mutating func decodeLast(
        context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool
    ) throws -> DecodingState {
        // A partial frame at end of input is dropped: its call was never complete.
        while let frame = next(&buffer) {
            context.fireChannelRead(Self.wrapInboundOut(frame))
        }
        buffer.moveReaderIndex(to: buffer.writerIndex)
        return .needMoreData
    }

    /// The decoding step itself, free of any channel so that it can be tested byte by byte.
    mutating func next(_ buffer: inout ByteBuffer) -> ControlFrame? {
        if failed || tracker?.discarding == true {
            buffer.moveReaderIndex(to: buffer.writerIndex)
            return nil
        }
        guard let length = buffer.getInteger(at: buffer.readerIndex, endianness: .big, as: UInt32.self) else {
            if buffer.readableBytes > 0 { _ = tracker?.incomplete(announced: nil) }
            return nil
        }
        switch Framing.classify(announced: length, limit: maxMessageBytes) {
        case .empty:
            tracker?.ended()
            failed = true
            buffer.moveReaderIndex(to: buffer.writerIndex)
            return .violation(FramingError(kind: .empty))
        case .tooLarge(let announced, let limit):
            tracker?.ended()
            failed = true
            buffer.moveReaderIndex(to: buffer.writerIndex)
            return .violation(FramingError(kind: .tooLarge(announced: announced, limit: limit)))
        case .payload(let count):
            guard buffer.readableBytes >= Framing.headerSize + count else {
                if let tracker, !tracker.incomplete(announced: count) {
                    failed = true
                    buffer.moveReaderIndex(to: buffer.writerIndex)
                    return .overBudget
                }
                return nil
            }
            tracker?.ended()
            buffer.moveReaderIndex(forwardBy: Framing.headerSize)
            return .payload(buffer.readSlice(length: count)!)
        }
    }
}
