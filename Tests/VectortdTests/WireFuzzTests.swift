import Foundation
import NIOCore
import Protocol
import Testing
import VectortTesting

@testable import VectortDaemon

/// A seeded random fuzzer for the frame decoder and the envelope parser: valid calls, mutated
/// byte by byte, spliced, truncated, nested and numbered past what a Double holds, fed in random
/// chunks. It runs for `VECTORT_FUZZ_SECONDS` (2 s in the suite; 600 for the long run) from
/// `VECTORT_FUZZ_SEED` (fixed by default, so a failure replays), and checks what must hold for
/// any input:
///
/// - the NIO decoder yields the same frames whatever the chunking, and the same as the
///   reference `FrameDecoder`;
/// - `CallRequest.parse` answers a request or an `InvalidMessage`/`InvalidParameter`, never
///   anything else, and never crashes;
/// - when the fast parser takes a payload, Foundation's decoder reads the same value, and the
///   full parse gives the same request (the two paths never disagree);
/// - `JSONStructureCheck` never crashes.
@Suite("Fuzzing the frame decoder and the envelope parser")
struct WireFuzzTests {
    static let seconds = Double(ProcessInfo.processInfo.environment["VECTORT_FUZZ_SECONDS"] ?? "") ?? 2
    static let seed = UInt64(ProcessInfo.processInfo.environment["VECTORT_FUZZ_SEED"] ?? "") ?? 0x5EED_0014

    static let seeds: [String] = [
        #"{"method":"io.vectort.Service.Ping"}"#,
        #"{"method":"io.vectort.Credits.GetBalance","parameters":{"user":"u_3f2a"}}"#,
        #"{"method":"io.vectort.Projects.Generate","parameters":{"user":"u_1","project":"p_2","prompt":"a shop for soap","mode":"quick"},"more":true}"#,
        #"{"method":"io.vectort.Credits.Grant","parameters":{"user":"u_1","amount":25,"reason":"promo \u00e9\ud83c\udf89","idempotency_key":"k-1"},"oneway":false}"#,
        #"{"method":"io.vectort.Projects.ImportFiles","parameters":{"project":"p_1","files":{"index.html":"<p>\"hi\"\n</p>","a/b.png":{"base64":"iVBORw0KGgo="}}}}"#,
        #"{"method":"x","parameters":{"n":[1,-2,3.5,1e3,-0,0.0001,9223372036854775807,-9223372036854775808,true,false,null]}}"#,
        #"{"method":"x","parameters":{"deep":[[[[{"a":[{"b":{}}]}]]]]}}"#,
        #"  {"method" : "x" , "parameters" : { } }  "#,
    ]

    /// Values a mutation splices in: the places parsers disagree.
    static let fragments: [String] = [
        "1e400", "-1e400", String(repeating: "9", count: 400), "9223372036854775808", "-0", "0.1e-999",
        #""\ud800""#, #""\udc00\ud800""#, #""\u0000""#, #""e\u0301""#, #""\u00e9""#, #"{"a":1,"a":2}"#,
        #"{"é":1,"é":2}"#, String(repeating: "[", count: 200) + String(repeating: "]", count: 200),
        "[", "]", "{", "}", ",", ":", #"""#, "\\", "null", "tru", "NaN", "Infinity", "\u{0}", "\u{FEFF}",
        #""method""#, #""parameters""#, #""more""#, #""oneway""#,
    ]

    @Test func anyInputIsAnsweredAndTheParsersAgree() async throws {
        // Seconds of CPU: on a thread of its own, not one of the cooperative pool's two.
        try await Blocking.run { try Self.fuzz() }
    }

    static func fuzz() throws {
        var random = SeededGenerator(seed: Self.seed)
        let deadline = ContinuousClock.now + .milliseconds(Int64(Self.seconds * 1000))
        var executions = 0
        var accepted = 0
        var fastAccepted = 0
        while ContinuousClock.now < deadline {
            for _ in 0..<50 {
                let payload = Self.input(&random)
                let outcome = try Self.checkParsers(payload)
                accepted += outcome.accepted ? 1 : 0
                fastAccepted += outcome.fast ? 1 : 0
                try Self.checkDecoders(payload, &random)
                executions += 1
            }
        }
        print(
            "wire fuzz: \(executions) inputs in \(Self.seconds) s from seed \(Self.seed): \(accepted) parsed as calls, "
                + "\(fastAccepted) by the fast parser; no finding")
        try #require(executions > 0)
        try #require(accepted > 0 && accepted < executions, "the inputs reach both outcomes")
    }

    // MARK: Inputs

    static func input(_ random: inout SeededGenerator) -> [UInt8] {
        var bytes = Array(seeds.randomElement(using: &random)!.utf8)
        let mutations = Int.random(in: 0...4, using: &random)
        for _ in 0..<mutations { mutate(&bytes, &random) }
        return bytes
    }

    static func mutate(_ bytes: inout [UInt8], _ random: inout SeededGenerator) {
        let at = bytes.isEmpty ? 0 : Int.random(in: 0..<bytes.count, using: &random)
        switch Int.random(in: 0..<8, using: &random) {
        case 0 where !bytes.isEmpty:
            bytes[at] ^= UInt8(1 << Int.random(in: 0..<8, using: &random))
        case 1:
            bytes.insert(UInt8.random(in: 0...255, using: &random), at: at)
        case 2 where !bytes.isEmpty:
            bytes.remove(at: at)
        case 3:
            bytes.insert(contentsOf: fragments.randomElement(using: &random)!.utf8, at: at)
        case 4 where !bytes.isEmpty:
            bytes.removeSubrange(at..<min(bytes.count, at + Int.random(in: 1...16, using: &random)))
        case 5 where bytes.count > 1:
            // Replace a token-sized run with a fragment.
            let end = min(bytes.count, at + Int.random(in: 1...8, using: &random))
            bytes.replaceSubrange(at..<end, with: fragments.randomElement(using: &random)!.utf8)
        case 6:
            let other = Array(seeds.randomElement(using: &random)!.utf8)
            let cut = Int.random(in: 0...other.count, using: &random)
            bytes = Array(bytes.prefix(at)) + other.suffix(from: cut)
        default:
            bytes.insert(contentsOf: " \t\r\n".utf8.shuffled(using: &random).prefix(2), at: at)
        }
    }

    // MARK: Properties

    /// Returns whether the payload was a call and whether the fast parser took it.
    static func checkParsers(_ payload: [UInt8]) throws -> (accepted: Bool, fast: Bool) {
        _ = JSONStructureCheck.problem(in: payload)
        let fastValue = JSONValue.parse(payload)
        if let fastValue {
            let decoded = try? WireCoding.decoder.decode(JSONValue.self, from: Data(payload))
            try #require(
                decoded == fastValue,
                "the fast parser and Foundation disagree on \(String(decoding: payload, as: UTF8.self).debugDescription)")
        }
        let quick = CallRequest.parseQuickly(payload: payload)
        let parsed: Result<CallRequest, WireError>
        do throws(WireError) {
            parsed = .success(try CallRequest.parse(payload: payload))
        } catch {
            parsed = .failure(error)
        }
        switch parsed {
        case .success(let request):
            if let quick {
                try #require(request == quick, "the two paths read another request from \(payload)")
            }
            return (true, quick != nil)
        case .failure(let error):
            try #require(
                error.name == .invalidMessage || error.name == .invalidParameter,
                "\(error.name) for \(String(decoding: payload, as: UTF8.self).debugDescription)")
            try #require(quick == nil, "the fast path took what the full parse refuses")
            return (false, false)
        }
    }

    /// Frames the payload between two valid ones, with a random length prefix now and then,
    /// and feeds it to the NIO decoder in random chunks and to the reference decoder whole.
    static func checkDecoders(_ payload: [UInt8], _ random: inout SeededGenerator) throws {
        let limit = 1024
        var stream = Framing.frame(Array(seeds[0].utf8))
        if Bool.random(using: &random) {
            stream += Framing.frame(payload)
        } else {
            var header: [UInt8] = []
            Framing.appendHeader(UInt32.random(in: 0...UInt32(limit + 8), using: &random), to: &header)
            stream += header + payload
        }
        stream += Framing.frame(Array(seeds[1].utf8))

        var reference = FrameDecoder(maxMessageBytes: limit)
        reference.feed(stream)
        var expected: [ControlFrame] = []
        while true {
            do {
                guard let frame = try reference.next() else { break }
                expected.append(.payload(ByteBuffer(bytes: frame)))
            } catch {
                expected.append(.violation(error))
                break
            }
        }

        var decoder = ControlFrameDecoder(maxMessageBytes: limit)
        var buffer = ByteBuffer()
        var got: [ControlFrame] = []
        var offset = 0
        while offset < stream.count {
            let size = min(stream.count - offset, Int.random(in: 1...64, using: &random))
            buffer.writeBytes(stream[offset..<offset + size])
            offset += size
            while let frame = decoder.next(&buffer) { got.append(frame) }
            buffer.discardReadBytes()
        }
        try #require(got == expected, "chunked decoding differs from the reference for \(stream)")
    }
}
