/// Line diffs in the unified format (`--- a/path`, `+++ b/path`, `@@ -l,n +l,n @@` hunks with
/// three lines of context), from Myers' shortest edit script.
enum UnifiedDiff {
    enum Edit: Equatable {
        case same(Int, Int)
        case delete(Int)
        case insert(Int)
    }

    /// The shortest edit script from `a` to `b` (Myers, O((N+M)·D) time).
    static func edits(_ a: [Substring], _ b: [Substring]) -> [Edit] {
        let n = a.count, m = b.count
        let maxD = n + m
        guard maxD > 0 else { return [] }
        var v = [Int](repeating: 0, count: 2 * maxD + 2)
        var trace: [[Int]] = []
        let offset = maxD + 1
        var found = false
        for d in 0...maxD {
            trace.append(v)
            for k in stride(from: -d, through: d, by: 2) {
                var x =
                    (k == -d || (k != d && v[offset + k - 1] < v[offset + k + 1])) ? v[offset + k + 1] : v[offset + k - 1] + 1
                var y = x - k
                while x < n, y < m, a[x] == b[y] {
                    x += 1
                    y += 1
                }
                v[offset + k] = x
                if x >= n, y >= m {
                    found = true
                    break
                }
            }
            if found { break }
        }
        // Walk the trace back from (n, m).
        var script: [Edit] = []
        var x = n, y = m
        for d in stride(from: trace.count - 1, through: 0, by: -1) {
            let v = trace[d]
            let k = x - y
            let previousK = (k == -d || (k != d && v[offset + k - 1] < v[offset + k + 1])) ? k + 1 : k - 1
            let previousX = d == 0 ? 0 : v[offset + previousK]
            let previousY = previousX - previousK
            while x > previousX, y > previousY {
                x -= 1
                y -= 1
                script.append(.same(x, y))
            }
            if d > 0 {
                if x == previousX { script.append(.insert(previousY)) } else { script.append(.delete(previousX)) }
            }
            x = previousX
            y = previousY
        }
        return script.reversed()
    }

    /// The unified diff of `old` into `new` (empty when they are equal), at most `limit` bytes:
    /// past it the text stops after the last whole line and `truncated` is true.
    static func render(path: String, old: String, new: String, oldExists: Bool, newExists: Bool, limit: Int)
        -> (text: String, truncated: Bool)
    {
        let a = lines(old), b = lines(new)
        let script = edits(a, b)
        var out = (oldExists ? "--- a/\(path)" : "--- /dev/null") + "\n" + (newExists ? "+++ b/\(path)" : "+++ /dev/null") + "\n"
        // Hunks: runs of changes with up to 3 lines of context, joined when closer than 6.
        let changed = script.indices.filter { if case .same = script[$0] { return false } else { return true } }
        guard !changed.isEmpty else { return ("", false) }
        var groups: [(Int, Int)] = []
        for index in changed {
            let start = max(0, index - 3), end = min(script.count - 1, index + 3)
            if let last = groups.last, start <= last.1 + 1 {
                groups[groups.count - 1].1 = max(last.1, end)
            } else {
                groups.append((start, end))
            }
        }
        // Where each edit starts in the old and the new text (0-based line cursors).
        var cursors: [(old: Int, new: Int)] = []
        var i = 0, j = 0
        for edit in script {
            cursors.append((i, j))
            switch edit {
            case .same: i += 1; j += 1
            case .delete: i += 1
            case .insert: j += 1
            }
        }
        for (start, end) in groups {
            var oldCount = 0, newCount = 0
            var body = ""
            for edit in script[start...end] {
                switch edit {
                case .same(let i, _):
                    oldCount += 1
                    newCount += 1
                    body += " " + a[i] + "\n"
                case .delete(let i):
                    oldCount += 1
                    body += "-" + a[i] + "\n"
                case .insert(let j):
                    newCount += 1
                    body += "+" + b[j] + "\n"
                }
            }
            // An empty side names the line before it, as diff -u does.
            let oldStart = cursors[start].old + (oldCount == 0 ? 0 : 1)
            let newStart = cursors[start].new + (newCount == 0 ? 0 : 1)
            let hunk = "@@ -\(oldStart),\(oldCount) +\(newStart),\(newCount) @@\n" + body
            if out.utf8.count + hunk.utf8.count > limit {
                var remaining = limit - out.utf8.count
                for line in hunk.split(separator: "\n") where remaining > line.utf8.count {
                    out += line + "\n"
                    remaining -= line.utf8.count + 1
                }
                return (out, true)
            }
            out += hunk
        }
        return (out, false)
    }

    static func lines(_ text: String) -> [Substring] {
        guard !text.isEmpty else { return [] }
        var parts = text.split(separator: "\n", omittingEmptySubsequences: false)
        if parts.last == "" { parts.removeLast() }
        return parts
    }
}
