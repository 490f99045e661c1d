import Foundation
public import Protocol

/// Reads esbuild's error messages (`--color=false`) into issues:
///
/// ```
/// ✘ [ERROR] Expected identifier but found "}"
///
///     src/App.jsx:1:46:
///       1 │ export default () => <div>{</div>
///         ╵                                               ^
/// ```
///
/// The location line names the file relative to the working directory, a 1-based line and a
/// 0-based column; issues carry 1-based columns. Warnings are not issues.
enum EsbuildMessages {
    static func errors(_ output: String, projectPrefix: String = "") -> [GenerationIssue] {
        var issues: [GenerationIssue] = []
        var current: GenerationIssue?
        for rawLine in output.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = rawLine.trimmingTrailingSpace()
            if let range = line.range(of: "[ERROR] ") {
                if let current { issues.append(current) }
                current = GenerationIssue(path: nil, rule: "build", message: String(line[range.upperBound...]))
                continue
            }
            if line.contains("[WARNING] ") {
                if let current { issues.append(current) }
                current = nil
                continue
            }
            guard var issue = current, issue.path == nil else { continue }
            let trimmed = line.drop { $0 == " " }
            guard trimmed.hasSuffix(":"), let location = parseLocation(trimmed.dropLast()) else { continue }
            var path = location.path
            if !projectPrefix.isEmpty, path.hasPrefix(projectPrefix) { path.removeFirst(projectPrefix.count) }
            issue.path = path
            issue.line = location.line
            issue.column = location.column + 1
            current = issue
        }
        if let current { issues.append(current) }
        return issues
    }

    /// `path:line:column` (the path may itself hold colons).
    static func parseLocation(_ text: Substring) -> (path: String, line: Int, column: Int)? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count >= 3, let column = Int(parts[parts.count - 1]), let line = Int(parts[parts.count - 2]) else {
            return nil
        }
        let path = parts.dropLast(2).joined(separator: ":")
        guard !path.isEmpty, !path.contains(" ") || path.contains("/") else { return nil }
        return (path, line, column)
    }
}

extension Substring {
    fileprivate func trimmingTrailingSpace() -> Substring {
        var end = endIndex
        while end > startIndex, self[index(before: end)] == " " || self[index(before: end)] == "\r" {
            end = index(before: end)
        }
        return self[startIndex..<end]
    }
}
