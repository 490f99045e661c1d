import ArgumentParser
import Foundation
import Protocol

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show what vectortd is and whether it is healthy (exit 0 healthy, 1 degraded or failing).")

    @OptionGroup var global: GlobalOptions

    @Option(name: .long, help: "Wait up to this many seconds for vectortd to answer before giving up.")
    var wait: Double?

    struct Report: CommandResult {
        var info: ServiceInfo
        var health: HealthReport

        var text: String {
            var rows = [["started", info.startedAt], ["socket", info.listeners.control]]
            if let webhook = info.listeners.webhook { rows.append(["webhook", webhook]) }
            rows.append(["role", info.role.rawValue])
            rows.append(["health", health.status.rawValue])
            let checks = health.checks.sorted { $0.key < $1.key }.map { [$0.key, $0.value.status.rawValue, $0.value.detail] }
            return Output.lines(
                "vectortd \(info.version) (protocol \(info.protocol))\(info.pid.map { ", pid \($0)" } ?? "")",
                Output.table(rows, indent: "  "), Output.table(checks, indent: "    "))
        }
    }

    func run() throws {
        try global.run {
            let client = try connectWaiting()
            let info = try decode(ServiceInfo.self, try client.call(MethodName.getInfo))
            let health = try decode(HealthReport.self, try client.call(MethodName.getHealth))
            Output.render(Report(info: info, health: health), as: global.format)
            if health.status != .ok { throw ExitCode(ExitCodes.failure) }
        }
    }

    private func connectWaiting() throws -> VectortClient {
        guard let wait else { return try global.connect() }
        let deadline = Date().addingTimeInterval(wait)
        while true {
            do {
                return try global.connect()
            } catch let error as VectortClientError {
                guard case .notRunning = error, Date() < deadline else { throw error }
                Thread.sleep(forTimeInterval: 0.1)
            }
        }
    }
}

struct Ping: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check that vectortd answers; prints the round trip time.")

    @OptionGroup var global: GlobalOptions

    struct Result: CommandResult {
        var ok = true
        var roundTripUs: Int64
        var socketPath: String

        enum CodingKeys: String, CodingKey {
            case ok
            case roundTripUs = "round_trip_us"
        }

        var text: String { Output.lines("pong from \(socketPath) in \(roundTripUs) µs") }
    }

    func run() throws {
        try global.run {
            let client = try global.connect()
            let start = ContinuousClock.now
            _ = try client.call(MethodName.ping)
            let elapsed = ContinuousClock.now - start
            let microseconds = elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000
            Output.render(Result(roundTripUs: microseconds, socketPath: client.socketPath), as: global.format)
        }
    }
}

struct Describe: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List every method vectortd serves, with its role, streaming, and parameters.")

    @OptionGroup var global: GlobalOptions

    func run() throws {
        try global.run {
            let client = try global.connect()
            let description = try decode(ServiceDescription.self, try client.call(MethodName.describe))
            Output.render(description, as: global.format)
        }
    }
}

extension ServiceDescription: CommandResult {
    var text: String {
        let rows = methods.map { method -> [String] in
            let parameters = method.parameters.map { "\($0.name)\($0.required ? "" : "?"): \($0.type.rawValue)" }
            return [
                method.method, method.role.rawValue, method.streams ? "streams" : "",
                "{" + parameters.joined(separator: ", ") + "}",
            ]
        }
        return Output.lines(Output.table([["METHOD", "ROLE", "STREAM", "PARAMETERS"]] + rows))
    }
}

struct Reload: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make vectortd re-read its configuration and credentials.",
        discussion: "With --wait (what ExecReload= uses), returns only when the reload is done and prints the changed keys.")

    @OptionGroup var global: GlobalOptions

    @Flag(name: .long, help: "Wait until the reload is done (exit 2 if the new configuration is invalid).")
    var wait = false

    func run() throws {
        try global.run {
            let client = try global.connect()
            guard wait else {
                try client.send(CallRequest(method: MethodName.reload, oneway: true))
                Output.render(Requested(), as: global.format)
                return
            }
            let result = try decode(ReloadResult.self, try client.call(MethodName.reload))
            Output.render(result, as: global.format)
        }
    }

    /// A reload asked for without waiting for it.
    struct Requested: CommandResult {
        var requested = true

        var text: String { Output.lines("reload requested") }
    }
}

extension ReloadResult: CommandResult {
    var text: String {
        Output.lines(
            changed.isEmpty ? "reloaded; nothing changed" : "reloaded; changed: \(changed.joined(separator: ", "))")
    }
}

struct Call: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Call any method with JSON parameters and print the replies as JSON.",
        discussion: "Example: vectortctl call io.vectort.Service.GetInfo '{}'")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Full method name, such as io.vectort.Service.Ping.")
    var method: String

    @Argument(help: "Parameters as one JSON object (default {}).")
    var parameters: String = "{}"

    @Flag(name: .long, help: "Ask for a streamed answer; prints each reply as it arrives.")
    var more = false

    func validate() throws {
        guard method.hasPrefix("io.vectort."), method.split(separator: ".").count >= 4 else {
            throw ValidationError("method must be a full name such as io.vectort.Service.Ping")
        }
        _ = try parsedParameters()
    }

    private func parsedParameters() throws -> [String: JSONValue] {
        guard let value = try? WireCoding.decoder.decode(JSONValue.self, from: Data(parameters.utf8)),
            case .object(let object) = value
        else {
            throw ValidationError("parameters must be one JSON object, such as '{\"user\": \"u_1\"}'")
        }
        return object
    }

    func run() throws {
        let parameters = try parsedParameters()
        try global.run {
            let client = try global.connect()
            if more {
                let final = try client.callStreaming(method, parameters) { reply in
                    Output.render(JSONValue.object(reply.parameters ?? [:]), as: global.format)
                }
                Output.render(final, as: global.format)
            } else {
                Output.render(try client.call(method, parameters), as: global.format)
            }
        }
    }
}

extension JSONValue: CommandResult {
    /// A reply `call` does not know the shape of reads as JSON for people too.
    var text: String { Output.lines(Output.json(self, pretty: true)) }
}

/// Decodes a reply; a reply of the wrong shape is reported as an invalid reply.
func decode<T: Decodable>(_ type: T.Type, _ value: JSONValue) throws(VectortClientError) -> T {
    do {
        return try value.decode(as: T.self)
    } catch {
        throw .invalidReply("unexpected reply shape for \(T.self)")
    }
}
