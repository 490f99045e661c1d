public import Foundation
public import NIOHTTP1
import VectortCore

/// How long a provider asked us to wait, from its headers and error body.
///
/// Precedence, as the official SDKs and gateways read them: `retry-after-ms`, then
/// `retry-after` (seconds or an HTTP-date), then Gemini's `RetryInfo.retryDelay` in the body;
/// on a 429 without any of those, the rate-limit reset headers (OpenAI
/// `x-ratelimit-reset-*` durations, Anthropic `anthropic-ratelimit-*-reset` RFC 3339 times).
public enum RetryHints {
    /// The wait, or nil when the response gave none. A time in the past counts as zero.
    public static func retryAfter(
        status: Int, headers: HTTPHeaders, retryDelay: String? = nil, now: Date
    ) -> Duration? {
        if let value = headers.first(name: "retry-after-ms"), let wait = milliseconds(value) { return wait }
        if let value = headers.first(name: "retry-after"), let wait = retryAfterValue(value, now: now) {
            return wait
        }
        if let retryDelay, let wait = protobufDuration(retryDelay) { return wait }
        if status == 429 { return rateLimitReset(headers, now: now) }
        return nil
    }

    /// `x-should-retry: true|false`, OpenAI's and Anthropic's explicit verdict.
    public static func shouldRetry(_ headers: HTTPHeaders) -> Bool? {
        switch headers.first(name: "x-should-retry")?.lowercased() {
        case "true": true
        case "false": false
        default: nil
        }
    }

    /// `retry-after-ms: 1500`.
    public static func milliseconds(_ value: String) -> Duration? {
        guard let ms = Double(value.trimmingCharacters(in: .whitespaces)), ms.isFinite, ms >= 0 else { return nil }
        return .milliseconds(ms)
    }

    /// `retry-after`: delay-seconds ("30", tolerated fractional "1.5") or an HTTP-date.
    public static func retryAfterValue(_ value: String, now: Date) -> Duration? {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        if let seconds = Double(trimmed) {
            guard seconds.isFinite, seconds >= 0 else { return nil }
            return .milliseconds(seconds * 1000)
        }
        guard let date = httpDate(trimmed) else { return nil }
        return wait(until: date, now: now)
    }

    /// RFC 9110 HTTP-date: IMF-fixdate, and the obsolete RFC 850 and asctime forms.
    public static func httpDate(_ value: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        for format in ["EEE, dd MMM yyyy HH:mm:ss zzz", "EEEE, dd-MMM-yy HH:mm:ss zzz", "EEE MMM d HH:mm:ss yyyy"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: value) { return date }
        }
        return nil
    }

    /// A protobuf Duration as JSON: "37s", "1.5s", "0.250s".
    public static func protobufDuration(_ value: String) -> Duration? {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        guard trimmed.hasSuffix("s"), let seconds = Double(trimmed.dropLast()), seconds.isFinite, seconds >= 0 else {
            return nil
        }
        return .milliseconds(seconds * 1000)
    }

    /// A Go duration, as OpenAI's `x-ratelimit-reset-*`: "6m0s", "12ms", "1h2m3.5s", "20us".
    public static func goDuration(_ value: String) -> Duration? {
        var rest = Substring(value.trimmingCharacters(in: .whitespaces))
        guard !rest.isEmpty else { return nil }
        if rest == "0" { return .zero }
        var total = 0.0
        let units: [(String, Double)] = [
            ("ns", 1e-9), ("us", 1e-6), ("µs", 1e-6), ("μs", 1e-6), ("ms", 1e-3), ("s", 1), ("m", 60), ("h", 3600),
        ]
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            guard !number.isEmpty, let amount = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            // "ms" precedes "m" in `units`, so "m" never swallows the "m" of "ms".
            guard let (unit, scale) = units.first(where: { rest.hasPrefix($0.0) }) else { return nil }
            rest = rest.dropFirst(unit.count)
            total += amount * scale
        }
        return .milliseconds(total * 1000)
    }

    /// An RFC 3339 timestamp, with or without fractional seconds.
    public static func rfc3339(_ value: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: value) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: value)
    }

    /// The rate-limit window reset of a 429: of the dimensions whose `remaining` is 0, the
    /// latest reset; when none says 0, the earliest reset of any.
    public static func rateLimitReset(_ headers: HTTPHeaders, now: Date) -> Duration? {
        var exhausted: [Duration] = []
        var all: [Duration] = []
        for (name, value) in headers {
            let lower = name.lowercased()
            let wait: Duration?
            let dimension: String
            if lower.hasPrefix("x-ratelimit-reset-") {
                dimension = String(lower.dropFirst("x-ratelimit-reset-".count))
                wait = goDuration(value)
                if let wait, headers.first(name: "x-ratelimit-remaining-\(dimension)") == "0" { exhausted.append(wait) }
            } else if lower.hasPrefix("anthropic-ratelimit-"), lower.hasSuffix("-reset") {
                dimension = String(lower.dropFirst("anthropic-ratelimit-".count).dropLast("-reset".count))
                wait = rfc3339(value).map { Self.wait(until: $0, now: now) }
                if let wait, headers.first(name: "anthropic-ratelimit-\(dimension)-remaining") == "0" {
                    exhausted.append(wait)
                }
            } else {
                continue
            }
            if let wait { all.append(wait) }
        }
        return exhausted.max() ?? all.min()
    }

    private static func wait(until date: Date, now: Date) -> Duration {
        .milliseconds(max(0, date.timeIntervalSince(now)) * 1000)
    }
}
