import Foundation
import Protocol

/// Rendering: one Codable value printed as a table for people or as JSON for scripts.
enum Output {
    static func json(_ value: some Encodable) {
        let data = (try? WireCoding.prettyEncoder.encode(value)) ?? Data("null".utf8)
        FileHandle.standardOutput.write(data + Data("\n".utf8))
    }

    static func line(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    static func error(_ error: VectortClientError, json: Bool) {
        if json {
            var object: [String: JSONValue] = ["message": .string(error.description)]
            switch error {
            case .remote(let wire):
                object["error"] = .string(wire.name.rawValue)
                object["parameters"] = .object(wire.parameters)
            case .notRunning: object["error"] = "not_running"
            case .permissionDenied: object["error"] = "permission_denied"
            case .protocolMismatch: object["error"] = "protocol_mismatch"
            case .timeout: object["error"] = "timeout"
            case .connectionClosed: object["error"] = "connection_closed"
            case .invalidReply: object["error"] = "invalid_reply"
            case .io: object["error"] = "io"
            }
            let data = (try? WireCoding.encoder.encode(JSONValue.object(object))) ?? Data()
            FileHandle.standardError.write(data + Data("\n".utf8))
        } else {
            FileHandle.standardError.write(Data("vectortctl: \(error.description)\n".utf8))
        }
    }

    /// One value as `name  value` lines; absent values are left out.
    static func fields(_ rows: [(String, String?)]) {
        line(table(rows.compactMap { name, value in value.map { [name, $0] } }))
    }

    /// Rows of two or more columns, left-aligned.
    static func table(_ rows: [[String]], indent: String = "") -> String {
        guard let columns = rows.map(\.count).max() else { return "" }
        var widths = [Int](repeating: 0, count: columns)
        for row in rows {
            for (i, cell) in row.enumerated() where i < columns - 1 { widths[i] = max(widths[i], cell.count) }
        }
        return rows.map { row in
            indent
                + row.enumerated().map { i, cell in
                    i == row.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
                }.joined(separator: "  ").trailingSpacesRemoved
        }.joined(separator: "\n")
    }
}

extension String {
    /// Padding before an empty last column is not output.
    fileprivate var trailingSpacesRemoved: String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}
