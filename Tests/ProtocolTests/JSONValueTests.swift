import Foundation
import Protocol
import Testing

@Suite("JSONValue keeps integers and fractions apart")
struct JSONValueTests {
    static func decode(_ json: String) throws -> JSONValue {
        try WireCoding.decoder.decode(JSONValue.self, from: Data(json.utf8))
    }

    static func roundTrip(_ value: JSONValue) throws -> JSONValue {
        try WireCoding.decoder.decode(JSONValue.self, from: WireCoding.encoder.encode(value))
    }

    @Test func integerDecodesAsInt() throws {
        #expect(try Self.decode("1") == .int(1))
        #expect(try Self.decode("-9223372036854775808") == .int(Int64.min))
        #expect(try Self.decode("9007199254740993") == .int(9_007_199_254_740_993))
    }

    @Test func fractionDecodesAsDouble() throws {
        #expect(try Self.decode("1.5") == .double(1.5))
        #expect(try Self.decode("-0.25") == .double(-0.25))
    }

    @Test func intStaysIntAndFractionStaysDoubleThroughARoundTrip() throws {
        #expect(try Self.roundTrip(.int(10)) == .int(10))
        #expect(try Self.roundTrip(.int(Int64.max)) == .int(Int64.max))
        #expect(try Self.roundTrip(.double(1.5)) == .double(1.5))
    }

    /// JSON has one number type: a whole double is written without a fraction and reads back as int.
    @Test func wholeDoubleReadsBackAsInt() throws {
        #expect(String(decoding: try WireCoding.encoder.encode(JSONValue.double(2.0)), as: UTF8.self) == "2")
        #expect(try Self.roundTrip(.double(2.0)) == .int(2))
    }

    @Test func booleansAreNotNumbers() throws {
        #expect(try Self.decode("true") == .bool(true))
        #expect(try Self.decode("false") == .bool(false))
        #expect(try Self.decode("0") == .int(0))
    }

    @Test func nestedValueRoundTrips() throws {
        let value: JSONValue = [
            "user": "u_1",
            "buckets": ["free": 10, "monthly": 0],
            "history": [["amount": -2, "reason": "generation"], ["amount": 0.5], nil, [true, []]],
            "empty": [:],
        ]
        #expect(try Self.roundTrip(value) == value)
        #expect(value["buckets"]?["free"]?.intValue == 10)
        #expect(value["history"]?.arrayValue?.count == 4)
    }

    @Test func intValueAcceptsWholeDoublesOnly() {
        #expect(JSONValue.double(2.0).intValue == 2)
        #expect(JSONValue.double(-3.0).intValue == -3)
        #expect(JSONValue.double(2.5).intValue == nil)
        #expect(JSONValue.double(1e300).intValue == nil)
        #expect(JSONValue.double(.nan).intValue == nil)
        #expect(JSONValue.int(7).intValue == 7)
        #expect(JSONValue.string("7").intValue == nil)
    }

    @Test func accessorsAnswerOnlyForTheirCase() {
        #expect(JSONValue.string("a").stringValue == "a")
        #expect(JSONValue.int(1).stringValue == nil)
        #expect(JSONValue.bool(true).boolValue == true)
        #expect(JSONValue.int(1).boolValue == nil)
        #expect(JSONValue.object(["a": 1]).objectValue == ["a": 1])
        #expect(JSONValue.array([1]).objectValue == nil)
        #expect(JSONValue.array([1]).arrayValue == [1])
        #expect(JSONValue.int(1)["a"] == nil)
    }

    @Test func typeNamesMatchDescribe() {
        let names = ([nil, true, 1, 1.5, "s", [], [:]] as [JSONValue]).map(\.typeName)
        #expect(names == ["null", "bool", "int", "number", "string", "array", "object"])
    }

    @Test func encodableValueConvertsToATreeAndBack() throws {
        let info = ReloadResult(changed: ["log.level"])
        let tree = try JSONValue(encoding: info)
        #expect(tree == ["changed": ["log.level"]])
        #expect(try tree.decode(as: ReloadResult.self) == info)
    }
}
