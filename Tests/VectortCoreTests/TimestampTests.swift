import Foundation
import Testing
import VectortTesting

@testable import VectortCore

@Suite("Timestamps: the hand-built RFC 3339 form equals the format style's")
struct TimestampTests {
    @Test(arguments: [1, 2, 3])
    func randomTimesFormatAsTheFormatStyleDoes(seed: UInt64) {
        var generator = SeededGenerator(seed: seed)
        for _ in 0..<5_000 {
            // 1970 to 2100, with sub-millisecond parts that exercise the truncation.
            let interval = Double.random(in: 0..<4_102_444_800, using: &generator)
            let date = Date(timeIntervalSince1970: interval)
            #expect(Timestamps.string(date) == Timestamps.slowString(date), "\(interval)")
        }
    }

    @Test(arguments: [
        0.0, 0.0005, 0.999, 0.9999, 59.9999, 951_782_400.5, 1_800_000_000, 1_800_000_000.001, 4_102_444_799.999,
        -0.5, -1, -86_400.25,
    ])
    func edgesFormatAsTheFormatStyleDoes(interval: Double) {
        let date = Date(timeIntervalSince1970: interval)
        #expect(Timestamps.string(date) == Timestamps.slowString(date))
    }

    @Test func aStampReadsBack() {
        let date = Date(timeIntervalSince1970: 1_800_000_000.125)
        #expect(Timestamps.string(date) == "2027-01-15T08:00:00.125Z")
        #expect(Timestamps.parse(Timestamps.string(date)).map { abs($0.timeIntervalSince(date)) < 0.001 } == true)
    }
}

@Suite("Identifiers")
struct IdentifierTests {
    @Test func sortableIdsAreUniqueAndGrowWithinAMillisecondAndAcrossMany() {
        let instant = Date(timeIntervalSince1970: 1_900_000_000)
        var ids: [String] = []
        // More than one millisecond's sequence: the overflow borrows the next millisecond.
        for _ in 0..<70_000 { ids.append(Identifiers.sortable("h", now: instant)) }
        #expect(Set(ids).count == ids.count)
        #expect(ids == ids.sorted())
        #expect(ids.allSatisfy { $0.hasPrefix("h_") && $0.count == 18 })
        let later = Identifiers.sortable("h", now: instant.addingTimeInterval(60))
        #expect(later > ids.last!)
    }

    @Test func aClockThatGoesBackDoesNotRepeatAnId() {
        let instant = Date(timeIntervalSince1970: 1_950_000_000)
        let first = Identifiers.sortable("h", now: instant)
        let earlier = Identifiers.sortable("h", now: instant.addingTimeInterval(-5))
        #expect(earlier > first)
    }
}
