import Foundation
import Protocol

/// A response as timed steps: the connection handler plays them in order, each after its delay,
/// on the channel's event loop.
struct FakeLLMResponsePlan {
    enum Action {
        case head(status: Int, headers: [(name: String, value: String)])
        case data(String)
        /// The end of the HTTP body (the connection stays open for the next request).
        case end
        /// Close the connection where it stands: mid body, or before the head.
        case close
        /// Close with a TCP reset (SO_LINGER 0).
        case reset
    }

    struct Step {
        var delay: Duration
        var action: Action
    }

    var steps: [Step] = []

    mutating func append(_ action: Action, after delay: Duration = .zero) {
        steps.append(Step(delay: delay, action: action))
    }

    /// A complete JSON (or other fixed-length) reply.
    static func whole(
        status: Int, headers: [(name: String, value: String)], body: String, after delay: Duration = .zero
    ) -> FakeLLMResponsePlan {
        var plan = FakeLLMResponsePlan()
        let length = ("content-length", String(body.utf8.count))
        plan.append(.head(status: status, headers: headers + [length]), after: delay)
        if !body.isEmpty { plan.append(.data(body)) }
        plan.append(.end)
        return plan
    }
}

/// The events of one flavour's stream, for `FakeLLMStreamBuilder`.
protocol FakeLLMStreamFraming {
    /// Events sent with the head, before any text (OpenAI's role chunk, Anthropic's
    /// `message_start`, `content_block_start` and `ping`).
    func prologue() -> [String]
    func text(_ text: String, index: Int, isLast: Bool) -> String
    /// Events after the last text delta (finish, usage, terminator).
    func epilogue(textChunks: Int) -> [String]
    func inStreamError(_ error: FakeLLMError) -> String
    func malformed() -> String
}

enum FakeLLMStreamBuilder {
    static let eventStreamHeaders = [("content-type", "text/event-stream; charset=utf-8"), ("cache-control", "no-cache")]

    /// Lays out an answer: prologue with the head, text deltas paced by the script, the
    /// script's fault (if any) at its place, then the epilogue and the end of the body.
    static func plan(
        _ answer: FakeLLMScript.Answer, framing: some FakeLLMStreamFraming,
        headers: [(name: String, value: String)], delayBeforeHeaders: Duration
    ) -> FakeLLMResponsePlan {
        var plan = FakeLLMResponsePlan()
        plan.append(.head(status: 200, headers: headers), after: delayBeforeHeaders)
        let prologue = framing.prologue()
        if !prologue.isEmpty { plan.append(.data(prologue.joined())) }
        let faultAt: Int? =
            switch answer.ending {
            case .complete: nil
            case .cut(let n, _), .inStreamError(let n, _), .malformed(let n): n
            }
        for (index, chunk) in answer.chunks.enumerated() {
            if index == faultAt, applyFault(answer.ending, framing: framing, to: &plan) { return plan }
            var delay = index == 0 ? answer.firstTokenDelay : answer.interChunkDelay
            delay += answer.stalls[index] ?? .zero
            plan.append(
                .data(framing.text(chunk, index: index, isLast: index == answer.chunks.count - 1)), after: delay)
        }
        if let faultAt, faultAt >= answer.chunks.count, applyFault(answer.ending, framing: framing, to: &plan) {
            return plan
        }
        let epilogue = framing.epilogue(textChunks: answer.chunks.count)
        if !epilogue.isEmpty { plan.append(.data(epilogue.joined())) }
        plan.append(.end)
        return plan
    }

    /// Appends the fault; true when the stream stops there.
    private static func applyFault(
        _ ending: FakeLLMScript.Ending, framing: some FakeLLMStreamFraming, to plan: inout FakeLLMResponsePlan
    ) -> Bool {
        switch ending {
        case .complete:
            return false
        case .cut(_, let cleanly):
            plan.append(cleanly ? .end : .close)
            return true
        case .inStreamError(_, let error):
            plan.append(.data(framing.inStreamError(error)))
            plan.append(.end)
            return true
        case .malformed:
            plan.append(.data(framing.malformed()))
            return false
        }
    }
}

/// JSON text built by hand, so that a fake's bytes look like the provider's (key order included).
enum FakeJSON {
    /// A JSON string literal, escaped as the wire writer escapes it.
    static func quote(_ text: String) -> String {
        var writer = WireJSONWriter(capacity: text.utf8.count + 2)
        writer.string(text)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    static func quote(_ text: String?) -> String { text.map { quote($0) } ?? "null" }

    /// "1.5s", "37s": a protobuf Duration in JSON.
    static func protobufDuration(_ duration: Duration) -> String {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        if seconds == seconds.rounded() { return "\(Int(seconds))s" }
        return "\(seconds)s"
    }

    /// "6m0s", "12ms", "1.5s": Go's time.Duration, as OpenAI's rate-limit reset headers.
    static func goDuration(_ duration: Duration) -> String {
        let ms = Int(duration.components.seconds) * 1000 + Int(duration.components.attoseconds / 1_000_000_000_000_000)
        if ms < 1000 { return "\(ms)ms" }
        let minutes = ms / 60_000
        let rest = Double(ms % 60_000) / 1000
        let secondsText = rest == rest.rounded() ? "\(Int(rest))s" : "\(rest)s"
        return minutes > 0 ? "\(minutes)m\(secondsText)" : secondsText
    }

    static func rfc3339(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }

    static func wholeSecondsRoundedUp(_ duration: Duration) -> Int {
        let (seconds, atto) = duration.components
        return Int(seconds) + (atto > 0 ? 1 : 0)
    }
}

/// Everything a flavour's renderer needs to know about the call it answers.
struct FakeLLMCallContext {
    var model: String
    var callIndex: Int
    var created: Int
    /// The fake's wall-clock time when the call came in.
    var now: Date
    /// OpenAI: `stream_options.include_usage` was sent.
    var includeUsage: Bool
    /// Input tokens to report when the script does not say: 20.
    var defaultInputTokens = 20
}
