import Protocol
import Testing

@Suite("ParameterType.accepts")
struct ParameterTypeTests {
    static let samples: [JSONValue] = [nil, true, 3, 3.0, 3.5, "s", [1], ["k": 1]]

    static func accepted(by type: ParameterType) -> [JSONValue] {
        samples.filter { type.accepts($0) }
    }

    @Test func eachTypeAcceptsItsOwnValues() {
        #expect(Self.accepted(by: .string) == ["s"])
        #expect(Self.accepted(by: .bool) == [true])
        #expect(Self.accepted(by: .array) == [[1]])
        #expect(Self.accepted(by: .object) == [["k": 1]])
    }

    @Test func intAcceptsWholeNumbersWrittenAsDoubles() {
        #expect(Self.accepted(by: .int) == [3, 3.0])
        #expect(!ParameterType.int.accepts(.double(1e16)))
    }

    @Test func numberAcceptsIntsAndFractions() {
        #expect(Self.accepted(by: .number) == [3, 3.0, 3.5])
    }

    @Test func anyAcceptsEverything() {
        #expect(Self.accepted(by: .any) == Self.samples)
    }

    @Test(arguments: [ParameterType.string, .int, .bool, .number, .object, .array])
    func nullIsNeverATypedValue(type: ParameterType) {
        #expect(!type.accepts(.null))
    }
}
