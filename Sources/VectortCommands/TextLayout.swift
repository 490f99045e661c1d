import Foundation

/// The shapes of the text people read: lines, `name  value` fields and aligned tables.
extension Output {
    /// Each line followed by a line break.
    static func lines(_ lines: String...) -> String {
        self.lines(lines)
    }

    static func lines(_ lines: [String]) -> String {
        lines.map { $0 + "\n" }.joined()
    }

    /// One value as `name  value` rows; absent values are left out.
    static func fields(_ rows: [(String, String?)]) -> String {
        table(rows.compactMap { name, value in value.map { [name, $0] } })
    }

    /// Rows of two or more columns, left-aligned, without a final line break.
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
