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
            if let storage = info.storage {
                var detail = storage.backend
                if let node = storage.node {
                    let nodes = storage.nodes ?? [node]
                    detail += " (node \(node); \(nodes.count) live: \(nodes.joined(separator: ", ")))"
                }
                rows.append(["storage", detail])
            }
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
                guard error.code == .notRunning, Date() < deadline else { throw error }
                Thread.sleep(forTimeInterval: 0.1)
            }
        }
    }
}
