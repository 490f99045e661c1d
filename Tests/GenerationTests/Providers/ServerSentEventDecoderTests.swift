import NIOCore
import Testing

@testable import Generation

@Suite("Server-sent event decoder")
struct ServerSentEventDecoderTests {
    private func decode(_ text: String) -> [ServerSentEvent] {
        var decoder = ServerSentEventDecoder()
        return decoder.feed(ByteBuffer(string: text))
    }

    /// Every way of splitting the stream in two gives the same events as feeding it whole.
    private func decodeSplitEverywhere(_ text: String) -> [[ServerSentEvent]] {
        let bytes = Array(text.utf8)
        return (0...bytes.count).map { cut in
            var decoder = ServerSentEventDecoder()
            return decoder.feed(ByteBuffer(bytes: bytes[..<cut])) + decoder.feed(ByteBuffer(bytes: bytes[cut...]))
        }
    }

    @Test func namedEventsWithDataAreDispatchedAtBlankLines() {
        let events = decode("event: message_start\ndata: {\"a\":1}\n\nevent: ping\ndata: {}\n\n")
        #expect(events == [ServerSentEvent(event: "message_start", data: "{\"a\":1}"), ServerSentEvent(event: "ping", data: "{}")])
    }

    @Test func multiLineDataIsJoinedWithNewlines() {
        #expect(decode("data: one\ndata: two\ndata:\ndata:  three\n\n") == [ServerSentEvent(data: "one\ntwo\n\n three")])
    }

    @Test func commentsAreIgnoredAndEventsWithoutDataAreNotDispatched() {
        #expect(decode(": keep-alive\n\nevent: lonely\n\n:\ndata: x\n\n") == [ServerSentEvent(data: "x")])
    }

    @Test func lineEndingsMayBeLFCRorCRLF() {
        let expected = [ServerSentEvent(event: "e", data: "1"), ServerSentEvent(data: "2")]
        #expect(decode("event: e\ndata: 1\n\ndata: 2\n\n") == expected)
        #expect(decode("event: e\rdata: 1\r\rdata: 2\r\r") == expected)
        #expect(decode("event: e\r\ndata: 1\r\n\r\ndata: 2\r\n\r\n") == expected)
        #expect(decode("event: e\r\ndata: 1\n\rdata: 2\r\n\n") == expected)
    }

    @Test func fieldWithoutColonAndWithoutSpaceAfterColon() {
        #expect(decode("data\n\ndata:tight\n\n") == [ServerSentEvent(data: ""), ServerSentEvent(data: "tight")])
    }

    @Test func idPersistsAndRetryIsReported() {
        let events = decode("id: 7\nretry: 1500\ndata: a\n\ndata: b\n\n")
        #expect(events == [ServerSentEvent(data: "a", id: "7", retry: 1500), ServerSentEvent(data: "b", id: "7")])
    }

    @Test func byteOrderMarkAtTheStartIsDropped() {
        #expect(decode("\u{FEFF}data: x\n\n") == [ServerSentEvent(data: "x")])
    }

    @Test func unterminatedEventAtTheEndIsNotDispatched() {
        var decoder = ServerSentEventDecoder()
        #expect(decoder.feed(ByteBuffer(string: "data: complete\n\ndata: partial\n")) == [ServerSentEvent(data: "complete")])
        #expect(decoder.hasPartialEvent)
    }

    @Test func splittingAnywhereGivesTheSameEvents() {
        let streams = [
            "event: content_block_delta\ndata: {\"text\":\"Hé 👋\"}\n\nevent: ping\ndata: {}\n\n",
            "data: {\"candidates\":[]}\r\n\r\ndata: {\"x\":\"ü\"}\r\n\r\n",
            "data: a\rdata: b\r\r: comment\r\ndata: [DONE]\n\n",
        ]
        for stream in streams {
            let whole = decode(stream)
            #expect(!whole.isEmpty)
            for (cut, events) in decodeSplitEverywhere(stream).enumerated() {
                #expect(events == whole, "split at byte \(cut)")
            }
        }
    }

    @Test func feedingOneByteAtATimeGivesTheSameEvents() {
        let stream = "event: e\r\ndata: 1\r\n\r\ndata: \u{1F600}\r\rdata: 3\n\n"
        var decoder = ServerSentEventDecoder()
        var events: [ServerSentEvent] = []
        for byte in stream.utf8 { events += decoder.feed(ByteBuffer(bytes: [byte])) }
        #expect(events == decode(stream))
        #expect(events.count == 3)
    }
}
