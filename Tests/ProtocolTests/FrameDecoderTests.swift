import Protocol
import Testing

@Suite("FrameDecoder: the length-prefixed framing without I/O")
struct FrameDecoderTests {
    static let payloads: [[UInt8]] = [
        Array(#"{"method":"io.vectort.Service.Ping"}"#.utf8),
        [0x7B, 0x7D],
        Array(repeating: 0x20, count: 300) + Array("{}".utf8),
        Array(#"{"parameters":{"user":"ü"}}"#.utf8),
    ]

    static var stream: [UInt8] { payloads.flatMap { Framing.frame($0) } }

    /// Takes every complete payload out of the decoder.
    static func drain(_ decoder: inout FrameDecoder) throws(FramingError) -> [[UInt8]] {
        var out: [[UInt8]] = []
        while let payload = try decoder.next() { out.append(payload) }
        return out
    }

    @Test func frameWritesABigEndianLengthThenThePayload() {
        #expect(Framing.frame([0x41, 0x42, 0x43]) == [0, 0, 0, 3, 0x41, 0x42, 0x43])
        #expect(Framing.frame(Array(repeating: 0, count: 0x01_0203)).prefix(4) == [0, 0x01, 0x02, 0x03])
    }

    @Test func framedPayloadsRoundTrip() throws {
        var decoder = FrameDecoder()
        decoder.feed(Self.stream)
        #expect(try Self.drain(&decoder) == Self.payloads)
        #expect(decoder.bufferedByteCount == 0)
    }

    @Test func bytesFedOneByOneYieldEachPayloadOnItsLastByte() throws {
        var decoder = FrameDecoder()
        var out: [[UInt8]] = []
        var completedAt: [Int] = []
        for (offset, byte) in Self.stream.enumerated() {
            decoder.feed([byte])
            let got = try Self.drain(&decoder)
            if !got.isEmpty { completedAt.append(offset) }
            out += got
        }
        #expect(out == Self.payloads)
        var end = -1
        let expectedEnds = Self.payloads.map { payload -> Int in
            end += Framing.headerSize + payload.count
            return end
        }
        #expect(completedAt == expectedEnds)
    }

    @Test func manyFramesInOneFeedAllComeOut() throws {
        var decoder = FrameDecoder()
        let many = Array(repeating: Self.stream, count: 50).flatMap { $0 }
        decoder.feed(many)
        let out = try Self.drain(&decoder)
        #expect(out.count == Self.payloads.count * 50)
        #expect(Array(out.prefix(Self.payloads.count)) == Self.payloads)
        #expect(Array(out.suffix(Self.payloads.count)) == Self.payloads)
        #expect(decoder.bufferedByteCount == 0)
    }

    @Test func streamSplitAtEveryOffsetYieldsTheSamePayloads() throws {
        let stream = Self.stream
        for split in 0...stream.count {
            var decoder = FrameDecoder()
            decoder.feed(stream[..<split])
            var out = try Self.drain(&decoder)
            decoder.feed(stream[split...])
            out += try Self.drain(&decoder)
            #expect(out == Self.payloads, "split at \(split)")
            #expect(decoder.bufferedByteCount == 0, "split at \(split)")
        }
    }

    @Test func incompleteFrameStaysBufferedUntilItsLastByte() throws {
        var decoder = FrameDecoder()
        let frame = Framing.frame(Array("{}".utf8))
        decoder.feed(frame.dropLast())
        #expect(try decoder.next() == nil)
        #expect(decoder.bufferedByteCount == frame.count - 1)
        decoder.feed(frame.suffix(1))
        #expect(try decoder.next() == Array("{}".utf8))
    }

    @Test func lengthZeroIsAnEmptyFrameError() {
        var decoder = FrameDecoder()
        decoder.feed([0, 0, 0, 0] + Framing.frame(Array("{}".utf8)))
        #expect(throws: FramingError(kind: .empty)) { try decoder.next() }
        #expect(decoder.bufferedByteCount == 0)
    }

    @Test func lengthAboveTheLimitFailsAsSoonAsTheHeaderIsInWithNothingBuffered() throws {
        var decoder = FrameDecoder(maxMessageBytes: 1024)
        decoder.feed([0, 0, 0x04])
        #expect(try decoder.next() == nil)
        decoder.feed([0x01])
        #expect(throws: FramingError(kind: .tooLarge(announced: 1025, limit: 1024))) { try decoder.next() }
        #expect(decoder.bufferedByteCount == 0)
    }

    @Test func afterAFramingErrorFurtherInputIsIgnoredAndTheErrorRepeats() {
        var decoder = FrameDecoder(maxMessageBytes: 1024)
        decoder.feed([0xFF, 0xFF, 0xFF, 0xFF])
        let expected = FramingError(kind: .tooLarge(announced: UInt32.max, limit: 1024))
        #expect(throws: expected) { try decoder.next() }
        decoder.feed(Framing.frame(Array("{}".utf8)))
        decoder.feed(Array(repeating: 0x41, count: 4096))
        #expect(decoder.bufferedByteCount == 0)
        #expect(throws: expected) { try decoder.next() }
    }

    @Test func lengthExactlyAtTheLimitIsAccepted() throws {
        var decoder = FrameDecoder(maxMessageBytes: 1024)
        let payload = Array(repeating: UInt8(0x61), count: 1024)
        decoder.feed(Framing.frame(payload))
        #expect(try decoder.next() == payload)
    }

    @Test func classifyDecidesFromTheHeaderAlone() {
        #expect(Framing.classify(announced: 0, limit: 10) == .empty)
        #expect(Framing.classify(announced: 10, limit: 10) == .payload(10))
        #expect(Framing.classify(announced: 11, limit: 10) == .tooLarge(announced: 11, limit: 10))
        #expect(Framing.classify(announced: UInt32.max, limit: Int.max) == .payload(Int(UInt32.max)))
    }

    @Test func largeStreamsCompactTheBufferWithoutLosingBytes() throws {
        var decoder = FrameDecoder()
        let payload = Array(repeating: UInt8(0x62), count: 40 * 1024)
        let stream = Array(repeating: Framing.frame(payload), count: 5).flatMap { $0 }
        var out: [[UInt8]] = []
        // Leave a partial frame behind after each feed so the decoder must keep and compact its buffer.
        var offset = 0
        while offset < stream.count {
            let end = min(offset + 70_001, stream.count)
            decoder.feed(stream[offset..<end])
            out += try Self.drain(&decoder)
            offset = end
        }
        #expect(out.count == 5)
        #expect(out.allSatisfy { $0 == payload })
        #expect(decoder.bufferedByteCount == 0)
    }
}
