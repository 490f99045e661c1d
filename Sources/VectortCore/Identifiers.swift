package import Foundation
import Synchronization

/// Opaque ids: a kind prefix and 16 hex digits (`u_3f0c…`).
package enum Identifiers {
    package static func make(_ prefix: String) -> String {
        var generator = SystemRandomNumberGenerator()
        let value = generator.next() as UInt64
        let hex = String(value, radix: 16)
        return prefix + "_" + String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// An id of the same form whose digits grow with time: 48 bits of milliseconds since 1970
    /// and a 16-bit sequence. Rows keyed by it are appended at the end of their index instead
    /// of landing on a random page, which keeps the pages a busy batch dirties (and writes to
    /// the WAL) few. Unique within the process; the sequence starts at a random point each
    /// millisecond, so a restart after the clock stepped back is unlikely to repeat one.
    package static func sortable(_ prefix: String, now: Date = Date()) -> String {
        let milliseconds = UInt64(max(0, now.timeIntervalSince1970 * 1000)) & 0xFFFF_FFFF_FFFF
        let value = sortableState.withLock { state -> UInt64 in
            if milliseconds > state.milliseconds {
                state.milliseconds = milliseconds
                state.sequence = UInt64.random(in: 0..<0x8000)
            } else if state.sequence == 0xFFFF {
                // The sequence of this millisecond is used up (or the clock went back): borrow
                // the next millisecond rather than repeat an id.
                state.milliseconds += 1
                state.sequence = 0
            } else {
                state.sequence += 1
            }
            return state.milliseconds << 16 | state.sequence
        }
        let hex = String(value, radix: 16)
        return prefix + "_" + String(repeating: "0", count: 16 - hex.count) + hex
    }

    private static let sortableState = Mutex((milliseconds: UInt64(0), sequence: UInt64(0)))
}

/// RFC 3339 UTC timestamps as stored and sent.
package enum Timestamps {
    /// `2027-01-15T08:00:00.123Z`: what `ISO8601FormatStyle(includingFractionalSeconds: true)`
    /// writes, built from the UTC calendar fields directly. Every ledger write and balance read
    /// stamps a time, and the format style costs more than the rest of a cached read.
    package static func string(_ date: Date) -> String {
        // Whole seconds and truncated milliseconds of the reference-date interval that `Date`
        // stores, as the format style splits them.
        let reference = date.timeIntervalSinceReferenceDate
        let whole = reference.rounded(.down)
        guard whole.magnitude < 1e12 else { return slowString(date) }
        let fraction = min(999, Int(((reference - whole) * 1000).rounded(.down)))
        var seconds = time_t(Int64(whole) + 978_307_200)
        var fields = tm()
        guard gmtime_r(&seconds, &fields) != nil, (1...9999).contains(Int(fields.tm_year) + 1900) else {
            return slowString(date)
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        func digits(_ value: Int, _ count: Int) {
            var divisor = 1
            for _ in 1..<count { divisor *= 10 }
            var rest = value
            while divisor > 0 {
                bytes.append(UInt8(ascii: "0") + UInt8(rest / divisor))
                rest %= divisor
                divisor /= 10
            }
        }
        digits(Int(fields.tm_year) + 1900, 4)
        bytes.append(UInt8(ascii: "-"))
        digits(Int(fields.tm_mon) + 1, 2)
        bytes.append(UInt8(ascii: "-"))
        digits(Int(fields.tm_mday), 2)
        bytes.append(UInt8(ascii: "T"))
        digits(Int(fields.tm_hour), 2)
        bytes.append(UInt8(ascii: ":"))
        digits(Int(fields.tm_min), 2)
        bytes.append(UInt8(ascii: ":"))
        digits(Int(fields.tm_sec), 2)
        bytes.append(UInt8(ascii: "."))
        digits(fraction, 3)
        bytes.append(UInt8(ascii: "Z"))
        return String(decoding: bytes, as: UTF8.self)
    }

    package static func slowString(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    package static func parse(_ text: String) -> Date? {
        if let date = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text) { return date }
        return try? Date.ISO8601FormatStyle().parse(text)
    }
}
