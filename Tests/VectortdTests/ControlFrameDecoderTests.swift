import NIOCore
import NIOTestUtils
import Protocol
import Testing

@testable import VectortDaemon

@Suite("ControlFrameDecoder: the framing as a NIO decoder")
struct ControlFrameDecoderTests {
    static func frame(_ payload: String) -> ByteBuffer {
        ByteBuffer(bytes: Framing.frame(Array(payload.utf8)))
    }

    static func header(_ length: UInt32) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(length, endianness: .big)
        return buffer
    }

    @Test func decodesFramesFedInEveryWayTheVerifierTries() throws {
        let payloads = [
            #"{"method":"io.vectort.Service.Ping"}"#,
            "{}",
            #"{"method":"io.vectort.Credits.GetBalance","parameters":{"user":"u_3f"}}"#,
            String(repeating: " ", count: 900) + "{}",
        ]
        let pairs = payloads.map { payload in
            (Self.frame(payload), [ControlFrame.payload(ByteBuffer(string: payload))])
        }
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) {
            ControlFrameDecoder(maxMessageBytes: 1024)
        }
    }

    @Test func payloadExactlyAtTheLimitIsAccepted() {
        var decoder = ControlFrameDecoder(maxMessageBytes: 16)
        let payload = String(repeating: "a", count: 16)
        var buffer = Self.frame(payload)
        #expect(decoder.next(&buffer) == .payload(ByteBuffer(string: payload)))
        #expect(buffer.readableBytes == 0)
    }

    @Test func partialFrameWaitsWithoutConsumingAnything() {
        var decoder = ControlFrameDecoder(maxMessageBytes: 1024)
        var buffer = Self.frame("{}")
        buffer.moveWriterIndex(to: buffer.writerIndex - 1)
        #expect(decoder.next(&buffer) == nil)
        #expect(buffer.readableBytes == 5)
        var header = Self.header(2)
        header.moveWriterIndex(to: 3)
        #expect(decoder.next(&header) == nil)
        #expect(header.readableBytes == 3)
    }

    @Test func lengthZeroIsAViolationThatDiscardsTheRest() {
        var decoder = ControlFrameDecoder(maxMessageBytes: 1024)
        var buffer = Self.header(0)
        var next = Self.frame("{}")
        buffer.writeBuffer(&next)
        #expect(decoder.next(&buffer) == .violation(FramingError(kind: .empty)))
        #expect(buffer.readableBytes == 0)
    }

    @Test func lengthAboveTheLimitIsAViolationAsSoonAsTheHeaderIsIn() {
        var decoder = ControlFrameDecoder(maxMessageBytes: 1024)
        var buffer = Self.header(1025)
        #expect(decoder.next(&buffer) == .violation(FramingError(kind: .tooLarge(announced: 1025, limit: 1024))))
        #expect(buffer.readableBytes == 0)
    }

    @Test func afterAViolationLaterBytesAreDiscarded() {
        var decoder = ControlFrameDecoder(maxMessageBytes: 1024)
        var first = Self.header(UInt32.max)
        _ = decoder.next(&first)
        var later = Self.frame("{}")
        #expect(decoder.next(&later) == nil)
        #expect(later.readableBytes == 0)
        var more = ByteBuffer(repeating: 0x41, count: 5000)
        #expect(decoder.next(&more) == nil)
        #expect(more.readableBytes == 0)
    }
}
