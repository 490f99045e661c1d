import Foundation
import Protocol
import Testing
import VectortTesting

@testable import Engine

/// Diff and Restore of versions.
@Suite("Diff and restore")
struct DiffRestoreTests {
    /// Our unified diffs, applied by GNU patch to the old text, give the new text.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/patch")))
    func unifiedDiffsApplyWithGNUPatch() async throws {
        var random = SeededGenerator(seed: 16)
        let words = ["alpha", "beta", "gamma", "delta", "", "{", "}", "return x", "const y = 1"]
        let directory = try TemporaryDirectory(prefix: "vtdiff")
        for round in 0..<40 {
            let old = (0..<Int.random(in: 0...30, using: &random)).map { _ in words.randomElement(using: &random)! }
            var new = old
            for _ in 0..<Int.random(in: 1...6, using: &random) {
                switch Int.random(in: 0..<3, using: &random) {
                case 0 where !new.isEmpty: new.remove(at: Int.random(in: 0..<new.count, using: &random))
                case 1: new.insert(words.randomElement(using: &random)!, at: Int.random(in: 0...new.count, using: &random))
                default: if !new.isEmpty { new[Int.random(in: 0..<new.count, using: &random)] = "changed \(round)" }
                }
            }
            let oldText = old.map { $0 + "\n" }.joined(), newText = new.map { $0 + "\n" }.joined()
            let (diff, truncated) = UnifiedDiff.render(
                path: "f.txt", old: oldText, new: newText, oldExists: true, newExists: true, limit: 1 << 20)
            #expect(!truncated)
            if oldText == newText {
                #expect(diff.isEmpty)
                continue
            }
            let file = try directory.write("f-\(round).txt", oldText)
            let patchFile = try directory.write("f-\(round).diff", diff)
            let result = try await runCommand("/usr/bin/patch", ["--silent", "--force", file, patchFile])
            #expect(result.status == 0, "round \(round): \(result.stdout)\(result.stderr)\n\(diff)")
            #expect(try String(contentsOfFile: file, encoding: .utf8) == newText, "round \(round):\n\(diff)")
        }
    }

    @Test(arguments: Backend.allCases) func aDiffListsAddedDeletedAndChangedFilesAndARestoreCopiesAVersionWithoutCopyingItsFiles(_ backend: Backend) async throws {
        try await withEngine(on: backend) { engine in
            let owner = try await engine.user()
            let project = try await engine.projects.create(user: owner, title: "Diff")
            let v1 = try await engine.versions.store(project: project.id, files: [
                ProjectFile(path: "a.txt", contents: "one\ntwo\nthree\n"),
                ProjectFile(path: "gone.txt", contents: "bye\n"),
                ProjectFile(path: "logo.png", bytes: [0x89, 0x50, 0xFF]),
            ])
            let v2 = try await engine.versions.store(project: project.id, files: [
                ProjectFile(path: "a.txt", contents: "one\n2\nthree\n"),
                ProjectFile(path: "new.txt", contents: "hello\n"),
                ProjectFile(path: "logo.png", bytes: [0x89, 0x50, 0xFE]),
            ])
            let diff = try await engine.versions.diff(project: project.id, owner: owner, from: "1", to: "2")
            #expect(diff.from == v1.id)
            #expect(diff.to == v2.id)
            #expect(diff.files.map(\.path) == ["a.txt", "gone.txt", "logo.png", "new.txt"])
            #expect(diff.files.map(\.status) == [.changed, .deleted, .changed, .added])
            #expect(diff.files[0].diff == "--- a/a.txt\n+++ b/a.txt\n@@ -1,3 +1,3 @@\n one\n-two\n+2\n three\n")
            #expect(diff.files[2].binary == true)
            #expect(diff.files[3].diff == "--- /dev/null\n+++ b/new.txt\n@@ -0,0 +1,1 @@\n+hello\n")

            // Restore v1: a new current version with v1's files, which share v1's contents.
            let restored = try await engine.versions.restore(project: project.id, owner: owner, version: "1")
            #expect(restored.number == 3)
            #expect(restored.current)
            #expect(restored.baseVersion == v1.id)
            #expect(try await engine.versions.list(project: project.id, owner: owner).versions.first?.baseVersion == v1.id)
            let code = try await engine.versions.code(project: project.id, owner: owner)
            let original = try await engine.versions.code(project: project.id, owner: owner, version: "1")
            #expect(code.files == original.files)
            #expect(try await engine.versions.diff(project: project.id, owner: owner, from: "1", to: "3").files.isEmpty)
            // Restoring the current version changes nothing and stores nothing.
            await expectEngineError(.nothingChanged) {
                try await engine.versions.restore(project: project.id, owner: owner, version: "3")
            }
            #expect(try await engine.versions.list(project: project.id, owner: owner).versions.count == 3)
            // A version of another project is not found.
            let other = try await engine.projects.create(user: owner, title: "Other")
            await expectEngineError(.notFound) {
                try await engine.versions.restore(project: other.id, owner: owner, version: v1.id)
            }
        }
    }

    @Test func aLongDiffIsCutAtTheLimitOnALineBoundary() {
        let old = (0..<2000).map { "line \($0)\n" }.joined()
        let new = (0..<2000).map { "LINE \($0)\n" }.joined()
        let (text, truncated) = UnifiedDiff.render(path: "x", old: old, new: new, oldExists: true, newExists: true, limit: 4096)
        #expect(truncated)
        #expect(text.utf8.count <= 4096)
        #expect(text.hasSuffix("\n"))
    }
}
