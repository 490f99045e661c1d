import Protocol
import Testing

@Suite("CallRequest.parse: the envelope rules")
struct CallRequestParsingTests {
    static func parse(_ json: String) throws(WireError) -> CallRequest {
        try CallRequest.parse(payload: Array(json.utf8))
    }

    @Test func fullRequestIsRead() throws {
        let request = try Self.parse(
            #"{"method": "io.vectort.Credits.GetBalance", "parameters": {"user": "u_3f", "n": 2}, "#
                + #""more": true, "oneway": false}"#)
        #expect(request.method == "io.vectort.Credits.GetBalance")
        #expect(request.parameters == ["user": "u_3f", "n": 2])
        #expect(request.wantsMore)
        #expect(!request.isOneway)
    }

    @Test func methodAloneIsACompleteRequest() throws {
        let request = try Self.parse(#"{"method": "io.vectort.Service.Ping"}"#)
        #expect(request == CallRequest(method: "io.vectort.Service.Ping"))
        #expect(!request.wantsMore)
        #expect(!request.isOneway)
    }

    @Test(arguments: [
        (#"{"method": "io.vectort.Service.Ping", "method": "io.vectort.Credits.Grant"}"#, "method"),
        (#"{"method": "io.vectort.Credits.GetBalance", "parameters": {"user": "u_a", "user": "u_b"}}"#, "user"),
        (#"{"method": "io.vectort.Service.Ping", "parameters": {"a": [{"k": 1, "k": 2}]}}"#, "k"),
        (#"{"method": "io.vectort.Service.Ping", "parameters": {"a\u0062": 1, "a\u0062": 2}}"#, "ab"),
    ])
    func aKeyRepeatedInOneObjectIsAnInvalidMessage(json: String, key: String) {
        #expect(throws: WireError.invalidMessage("duplicate key \"\(key)\"")) { try Self.parse(json) }
    }

    @Test func keysThatDifferOnlyInNormalizationAreRefusedNamingTheParameter() {
        let files = #"{"method": "io.vectort.Projects.ImportFiles", "parameters": {"project": "p_1", "files": {"\#u{E9}.txt": "a", "e\#u{301}.txt": "b"}}}"#
        #expect(throws: WireError.invalidParameter("files", "keys \"\u{E9}.txt\" and \"e\u{301}.txt\" differ only in Unicode normalization")) {
            try Self.parse(files)
        }
        let envelope = #"{"method": "io.vectort.Service.Ping", "\#u{E9}": 1, "e\#u{301}": 2}"#
        #expect(throws: WireError.self) { try Self.parse(envelope) }
    }

    @Test func anEscapedKeyAndTheSameKeyWrittenPlainAreOneKeyTwice() {
        #expect(throws: WireError.invalidMessage("duplicate key \"user\"")) {
            try Self.parse(#"{"method": "io.vectort.Service.Ping", "parameters": {"user": 1, "\u0075ser": 2}}"#)
        }
    }

    @Test(arguments: ["1e400", "-1e400", String(repeating: "9", count: 5000), "[1, 2e999]"])
    func aNumberNoDoubleCanHoldIsAnInvalidParameterNamingIt(number: String) {
        let json = #"{"method": "io.vectort.Credits.Grant", "parameters": {"user": "u_1", "amount": "# + number + "}}"
        #expect {
            try Self.parse(json)
        } throws: { error in
            let wire = error as? WireError
            return wire?.name == .invalidParameter && wire?.details["parameter"] == "amount"
        }
    }

    @Test func aNumberNoDoubleCanHoldInTheEnvelopeIsAnInvalidMessage() {
        #expect {
            try Self.parse(#"{"method": "io.vectort.Service.Ping", "version": 1e999}"#)
        } throws: { error in
            (error as? WireError)?.name == .invalidMessage
        }
    }

    @Test func theSameKeyInDifferentObjectsIsFine() throws {
        let request = try Self.parse(#"{"method": "io.vectort.Service.Ping", "parameters": {"a": {"method": 1}, "b": {"a": 2}}}"#)
        #expect(request.parameters?["b"] == ["a": 2])
    }

    @Test func nestingDeeperThan128LevelsIsAnInvalidMessage() throws {
        func nested(_ depth: Int) -> String {
            #"{"method": "io.vectort.Service.Ping", "parameters": {"x": "# + String(repeating: "[", count: depth - 2)
                + String(repeating: "]", count: depth - 2) + "}}"
        }
        #expect(throws: WireError.invalidMessage("nesting too deep")) { try Self.parse(nested(129)) }
        let deepest = try Self.parse(nested(128))
        #expect(deepest.method == "io.vectort.Service.Ping")
    }

    @Test func unknownEnvelopeKeysAreIgnored() throws {
        let request = try Self.parse(#"{"method": "io.vectort.Service.Ping", "trace": {"id": 1}, "version": 7}"#)
        #expect(request == CallRequest(method: "io.vectort.Service.Ping"))
    }

    @Test func nullParametersAndFlagsMeanAbsent() throws {
        let request = try Self.parse(
            #"{"method": "io.vectort.Service.Ping", "parameters": null, "more": null, "oneway": null}"#)
        #expect(request.parameters == nil)
        #expect(request.more == nil)
        #expect(request.oneway == nil)
    }

    @Test(arguments: [
        ("not json", "payload is not valid JSON"),
        ("", "payload is not valid JSON"),
        (#"{"method": "io.vectort.Service.Ping""#, "payload is not valid JSON"),
        (#"["io.vectort.Service.Ping"]"#, "payload is not a JSON object"),
        (#""io.vectort.Service.Ping""#, "payload is not a JSON object"),
        ("42", "payload is not a JSON object"),
        (#"{"parameters": {}}"#, "no method"),
        (#"{"method": 42}"#, "method is not a string"),
        (#"{"method": null}"#, "method is not a string"),
        (#"{"method": "io.vectort.Service.Ping", "parameters": [1]}"#, "parameters is not an object"),
        (#"{"method": "io.vectort.Service.Ping", "parameters": "user=u_1"}"#, "parameters is not an object"),
        (#"{"method": "io.vectort.Service.Ping", "more": "yes"}"#, "more is not a boolean"),
        (#"{"method": "io.vectort.Service.Ping", "more": 1}"#, "more is not a boolean"),
        (#"{"method": "io.vectort.Service.Ping", "oneway": 0}"#, "oneway is not a boolean"),
    ])
    func malformedEnvelopeIsAnInvalidMessageWithItsReason(json: String, reason: String) {
        let error = #expect(throws: WireError.self) { try Self.parse(json) }
        #expect(error?.name == .invalidMessage)
        #expect(error?.details["reason"] == .string(reason))
        #expect(error?.parameters["message"]?.stringValue?.isEmpty == false)
    }
}
