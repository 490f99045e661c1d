import Foundation

/// Sizes, durations, rates and times as people read them in tables and progress lines.
enum QuantityDisplay {
    /// `512 B`, `1.2 KB`, `3.4 MB` (powers of 1024).
    static func bytes(_ count: Int) -> String {
        if count < 1024 { return "\(count) B" }
        let units = ["KB", "MB", "GB"]
        var value = Double(count) / 1024
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return "\(oneDecimal(value)) \(units[unit])"
    }

    /// `850 ms`, `12.3 s`, `2 m 05 s`.
    static func duration(milliseconds: Int) -> String {
        if milliseconds < 1000 { return "\(milliseconds) ms" }
        if milliseconds < 60_000 { return "\(oneDecimal(Double(milliseconds) / 1000)) s" }
        let seconds = milliseconds / 1000
        let rest = seconds % 60
        return "\(seconds / 60) m \(rest < 10 ? "0" : "")\(rest) s"
    }

    /// `2.0 s`, `0.5 s`.
    static func seconds(_ value: Double) -> String {
        "\(oneDecimal(value)) s"
    }

    /// A rate of 0…1 as `97%`.
    static func percent(_ rate: Double) -> String {
        "\(Int((rate * 100).rounded()))%"
    }

    /// `HH:MM:SS` of an RFC 3339 time in the local time zone (`TZ`), or the text as it is when it
    /// does not parse.
    static func timeOfDay(_ rfc3339: String) -> String {
        let plain = Date.ISO8601FormatStyle()
        let fractional = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        guard let date = (try? plain.parse(rfc3339)) ?? (try? fractional.parse(rfc3339)) else { return rfc3339 }
        let parts = Calendar.current.dateComponents(in: .current, from: date)
        return [parts.hour, parts.minute, parts.second].map { twoDigits($0 ?? 0) }.joined(separator: ":")
    }

    /// At most `limit` characters, ending with `…` when cut; newlines become spaces.
    static func truncated(_ text: String, to limit: Int) -> String {
        let flat = text.replacingOccurrences(of: "\n", with: " ")
        guard flat.count > limit else { return flat }
        return String(flat.prefix(max(limit - 1, 0))) + "…"
    }

    private static func oneDecimal(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }

    private static func twoDigits(_ value: Int) -> String {
        value < 10 ? "0\(value)" : "\(value)"
    }
}
