import Protocol
import Testing

@testable import VectortDaemon

@Suite("MethodTable routes calls and answers Describe from the same descriptors")
struct MethodTableTests {
    static let grant = "io.vectort.Credits.Grant"
    static let balance = "io.vectort.Credits.GetBalance"
    static let ping = "io.vectort.Service.Ping"

    static var table: MethodTable {
        var table = MethodTable()
        table.register(
            MethodDescriptor(method: ping, role: .client, summary: "Ping."), .immediate { _, _ in PingResult() })
        table.register(
            MethodDescriptor(
                method: grant, role: .admin,
                parameters: [
                    ParameterDescriptor("user", .string, required: true),
                    ParameterDescriptor("amount", .int, required: true),
                    ParameterDescriptor("reason", .string),
                    ParameterDescriptor("extra", .any),
                ],
                summary: "Grant."),
            .immediate { _, _ in PingResult() })
        table.register(
            MethodDescriptor(
                method: balance, role: .client, parameters: [ParameterDescriptor("user", .string, required: true)],
                summary: "Balance."),
            .async { _, _, _ in PingResult() })
        return table
    }

    static func resolveError(
        _ method: String, _ parameters: [String: JSONValue]? = nil, role: Role = .admin
    ) -> WireError? {
        #expect(throws: WireError.self) {
            _ = try table.resolve(CallRequest(method: method, parameters: parameters), role: role)
        }
    }

    @Test func knownMethodResolvesToItsRouteAndParameters() throws {
        let (route, parameters) = try Self.table.resolve(
            CallRequest(method: Self.grant, parameters: ["user": "u_1", "amount": 5, "reason": "support"]),
            role: .admin)
        #expect(route.descriptor.method == Self.grant)
        #expect(parameters.string("user") == "u_1")
        #expect(parameters.int("amount") == 5)
        #expect(parameters.string("reason") == "support")
        #expect(parameters.bool("reason") == nil)
    }

    @Test func absentParametersAreAnEmptyObject() throws {
        let (route, parameters) = try Self.table.resolve(CallRequest(method: Self.ping), role: .client)
        #expect(route.descriptor.method == Self.ping)
        #expect(parameters.values.isEmpty)
    }

    @Test func unknownMethodIsMethodNotFound() {
        let error = Self.resolveError("io.vectort.Credits.Steal")
        #expect(error == .methodNotFound("io.vectort.Credits.Steal"))
    }

    @Test func clientMayNotCallAnAdminMethod() {
        let error = Self.resolveError(Self.grant, ["user": "u_1", "amount": 5], role: .client)
        #expect(error == .permissionDenied(method: Self.grant, requiredRole: .admin))
    }

    @Test func roleIsCheckedBeforeParametersSoAClientLearnsNothingAboutThem() {
        let error = Self.resolveError(Self.grant, ["bogus": 1], role: .client)
        #expect(error?.name == .permissionDenied)
    }

    @Test func adminMayCallClientMethods() throws {
        let (route, _) = try Self.table.resolve(
            CallRequest(method: Self.balance, parameters: ["user": "u_1"]), role: .admin)
        #expect(route.descriptor.role == .client)
    }

    @Test func unknownParameterIsRejectedByName() {
        let error = Self.resolveError(Self.balance, ["user": "u_1", "currency": "usd"])
        #expect(error?.name == .invalidParameter)
        #expect(error?.details["parameter"] == "currency")
    }

    @Test func firstUnknownParameterInNameOrderIsTheOneReported() {
        let error = Self.resolveError(Self.balance, ["zeta": 1, "alpha": 2, "user": "u_1"])
        #expect(error?.details["parameter"] == "alpha")
    }

    @Test func illTypedParameterIsRejectedWithBothTypes() {
        let error = Self.resolveError(Self.grant, ["user": "u_1", "amount": "five"])
        #expect(error?.name == .invalidParameter)
        #expect(error?.details["parameter"] == "amount")
        #expect(error?.message == #"parameter "amount" must be of type int, not string"#)
    }

    @Test func wholeNumberWrittenAsADoubleIsAnInt() throws {
        let (_, parameters) = try Self.table.resolve(
            CallRequest(method: Self.grant, parameters: ["user": "u_1", "amount": 5.0]), role: .admin)
        #expect(parameters.int("amount") == 5)
        #expect(Self.resolveError(Self.grant, ["user": "u_1", "amount": 5.5])?.details["parameter"] == "amount")
    }

    @Test func missingRequiredParameterIsRejectedByName() {
        let error = Self.resolveError(Self.grant, ["user": "u_1"])
        #expect(error?.name == .invalidParameter)
        #expect(error?.details["parameter"] == "amount")
        #expect(error?.message == #"parameter "amount" is required"#)
    }

    @Test func nullParameterIsTheSameAsAbsent() throws {
        let (_, parameters) = try Self.table.resolve(
            CallRequest(method: Self.grant, parameters: ["user": "u_1", "amount": 1, "reason": nil]), role: .admin)
        #expect(parameters.values["reason"] == nil)
        #expect(Self.resolveError(Self.grant, ["user": "u_1", "amount": nil])?.details["parameter"] == "amount")
    }

    @Test func anyTypedParameterTakesEveryValue() throws {
        for value: JSONValue in [1, "s", [1], ["k": true], 1.5, false] {
            let (_, parameters) = try Self.table.resolve(
                CallRequest(method: Self.grant, parameters: ["user": "u_1", "amount": 1, "extra": value]), role: .admin)
            #expect(parameters.values["extra"] == value)
        }
    }

    @Test func descriptorsAreSortedByMethodName() {
        #expect(Self.table.descriptors.map(\.method) == [Self.balance, Self.grant, Self.ping])
    }

    @Test func interfacesAreDerivedFromTheDescriptors() {
        #expect(Self.table.interfaces == ["io.vectort.Credits", "io.vectort.Service"])
        #expect(Self.table.interfaces == Array(Set(Self.table.descriptors.map(\.interface))).sorted())
    }

    @Test func emptyTableServesNothing() {
        #expect(MethodTable().descriptors.isEmpty)
        #expect(MethodTable().interfaces.isEmpty)
    }
}
