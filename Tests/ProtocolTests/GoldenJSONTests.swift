import Foundation
import Protocol
import Testing

@Suite("Golden JSON of every wire type")
struct GoldenJSONTests {
    @Test func callRequestCarriesMethodParametersAndFlags() throws {
        let request = CallRequest(
            method: "io.vectort.Credits.GetBalance", parameters: ["user": "u_3f"], more: false, oneway: false)
        try GoldenFixture.expectRoundTrip(request, fixture: "call-request")
    }

    @Test func successReplyCarriesOnlyParameters() throws {
        let reply = CallReply(parameters: [
            "user": "u_3f", "total": 10, "buckets": ["free": 10, "monthly": 0, "topup": 0],
        ])
        try GoldenFixture.expectRoundTrip(reply, fixture: "call-reply-success")
    }

    @Test func continuedReplyIsMarkedContinues() throws {
        let reply = CallReply(parameters: ["event": "file", "path": "src/App.jsx"], continues: true)
        try GoldenFixture.expectRoundTrip(reply, fixture: "call-reply-continued")
    }

    @Test func errorReplyCarriesNameMessageAndStructuredParameters() throws {
        let error = WireError(
            .insufficientCredits, "not enough credits: 4 required, 2 available", ["required": 4, "available": 2])
        let reply = CallReply(error: error)
        try GoldenFixture.expectRoundTrip(reply, fixture: "call-reply-error")
        let decoded = try WireCoding.decoder.decode(CallReply.self, from: GoldenFixture.data("call-reply-error"))
        #expect(decoded.wireError == error)
        #expect(decoded.isContinued == false)
    }

    /// One example of every error of PROTOCOL.md's table, with the parameters the table lists.
    static let errorExamples: [ErrorName: WireError] = [
        .invalidMessage: .invalidMessage("payload is not a JSON object"),
        .messageTooLarge: .messageTooLarge(limit: 16 * 1024 * 1024),
        .methodNotFound: .methodNotFound("io.vectort.Nope.Call"),
        .invalidParameter: .invalidParameter("user", "parameter \"user\" is required"),
        .permissionDenied: .permissionDenied(method: "io.vectort.Credits.Grant", requiredRole: .admin),
        .notFound: WireError(.notFound, "no project p_1", ["kind": "project", "id": "p_1"]),
        .alreadyExists: WireError(
            .alreadyExists, "a user with email a@example.com already exists", ["kind": "user", "id": "a@example.com"]),
        .conflict: WireError(.conflict, "the deployment has already finished", ["reason": "deployment is terminal"]),
        .insufficientCredits: WireError(
            .insufficientCredits, "not enough credits: 4 required, 2 available", ["required": 4, "available": 2]),
        .rateLimited: WireError(.rateLimited, "too many calls; retry in 30 s", ["retry_after_seconds": 30]),
        .unavailable: .unavailable("every provider failed", retryAfterSeconds: 60),
        .timeout: .timeout(seconds: 2.5),
        .internal: .internal(reference: "3f9a0c1e"),
    ]

    @Test(arguments: ErrorName.allVersion1)
    func everyVersion1ErrorHasAGoldenReply(name: ErrorName) throws {
        let error = try #require(Self.errorExamples[name], "no example for \(name)")
        #expect(error.name == name)
        let shortName = String(name.rawValue.split(separator: ".").last!)
        try GoldenFixture.expectRoundTrip(CallReply(error: error), fixture: "error-\(shortName)")
        let decoded = try WireCoding.decoder.decode(CallReply.self, from: GoldenFixture.data("error-\(shortName)"))
        #expect(decoded.wireError == error)
    }

    @Test func version1HasThirteenErrorNamesInTableOrder() {
        #expect(ErrorName.allVersion1.map(\.rawValue) == [
            "io.vectort.InvalidMessage", "io.vectort.MessageTooLarge", "io.vectort.MethodNotFound",
            "io.vectort.InvalidParameter", "io.vectort.PermissionDenied", "io.vectort.NotFound",
            "io.vectort.AlreadyExists", "io.vectort.Conflict", "io.vectort.InsufficientCredits",
            "io.vectort.RateLimited", "io.vectort.Unavailable", "io.vectort.Timeout", "io.vectort.Internal",
        ])
    }

    @Test func serviceInfoUsesSnakeCaseStartedAtAndOptionalListeners() throws {
        let info = ServiceInfo(
            product: "vectortd", version: "0.1.0", protocol: 1,
            interfaces: ["io.vectort.Credits", "io.vectort.Service"],
            listeners: .init(control: "/run/vectortd.sock", webhook: "127.0.0.1:8402", metrics: "127.0.0.1:9402"),
            startedAt: "2025-01-02T03:04:05Z", role: .admin, pid: 4242)
        try GoldenFixture.expectRoundTrip(info, fixture: "service-info")
    }

    @Test func serviceInfoOmitsAbsentWebhookMetricsAndPid() throws {
        let info = ServiceInfo(
            product: "vectortd", version: "0.1.0", protocol: 1, interfaces: ["io.vectort.Service"],
            listeners: .init(control: "/run/vectortd.sock"), startedAt: "2025-01-02T03:04:05Z", role: .client)
        try GoldenFixture.expectRoundTrip(info, fixture: "service-info-minimal")
    }

    @Test func healthReportCarriesOverallStatusAndEachCheck() throws {
        let report = HealthReport(checks: [
            "database": .init(status: .ok, detail: "schema version 3"),
            "providers": .init(status: .degraded, detail: "openai circuit open"),
        ])
        try GoldenFixture.expectRoundTrip(report, fixture: "health-report")
    }

    @Test func serviceDescriptionListsRoleStreamingAndParameters() throws {
        let description = ServiceDescription(protocol: 1, methods: [
            MethodDescriptor(
                method: "io.vectort.Credits.Grant", role: .admin,
                parameters: [
                    ParameterDescriptor("user", .string, required: true, "The user to credit."),
                    ParameterDescriptor("amount", .int, required: true),
                    ParameterDescriptor("bucket", .string, "free, monthly or topup."),
                ],
                summary: "Adds credits to a user's balance."),
            MethodDescriptor(
                method: "io.vectort.Projects.Generate", role: .client, streams: true,
                parameters: [
                    ParameterDescriptor("project", .string, required: true),
                    ParameterDescriptor("settings", .object),
                ],
                summary: "Generates code; streams events with more."),
            MethodDescriptor(method: "io.vectort.Service.Ping", role: .client, summary: "Answers {} at once."),
        ])
        try GoldenFixture.expectRoundTrip(description, fixture: "service-description")
    }

    @Test func reloadResultListsChangedKeys() throws {
        let result = ReloadResult(changed: ["log.level", "stripe-secret-key"])
        try GoldenFixture.expectRoundTrip(result, fixture: "reload-result")
    }

    @Test func pingResultIsAnEmptyObject() throws {
        try GoldenFixture.expectRoundTrip(PingResult(), fixture: "ping-result")
    }

    @Test func jsonValueOfEveryCase() throws {
        let value: JSONValue = [
            "null": nil,
            "bool": true,
            "int": 42,
            "negative": -7,
            "big": .int(9_007_199_254_740_993),
            "double": 1.5,
            "string": "a/b",
            "array": [1, "two", false, nil],
            "object": ["nested": ["deep": 0.25]],
        ]
        try GoldenFixture.expectRoundTrip(value, fixture: "json-value")
    }
}
