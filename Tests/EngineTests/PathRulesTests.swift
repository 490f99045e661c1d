import Foundation
import Protocol
import Testing

@testable import Engine
@testable import Generation
import VectortCore

@Suite("File paths of a version: relative, inside the project, printable, bounded")
struct PathRulesTests {
    /// Small limits so that every bound is easy to cross.
    static let limits = VersionLimits(maxFiles: 3, maxBytes: 100, maxPathBytes: 32)

    struct Rejected: Sendable, CustomTestStringConvertible {
        let why: String
        let files: [ProjectFile]
        var testDescription: String { why }

        init(_ why: String, _ paths: [String], contents: String = "x") {
            self.why = why
            self.files = paths.map { ProjectFile(path: $0, contents: contents) }
        }

        init(_ why: String, files: [ProjectFile]) {
            self.why = why
            self.files = files
        }
    }

    static let rejected: [Rejected] = [
        Rejected("absolute", ["/etc/passwd"]),
        Rejected("parent", ["../outside.txt"]),
        Rejected("parent inside", ["src/../../outside.txt"]),
        Rejected("trailing parent", ["src/.."]),
        Rejected("dot", ["."]),
        Rejected("dot component", ["src/./a.txt"]),
        Rejected("empty path", [""]),
        Rejected("empty component", ["src//a.txt"]),
        Rejected("trailing slash", ["src/"]),
        Rejected("NUL", ["a\u{0}.txt"]),
        Rejected("newline", ["a\n.txt"]),
        Rejected("tab", ["a\t.txt"]),
        Rejected("escape", ["a\u{1B}[31m.txt"]),
        Rejected("DEL", ["a\u{7F}.txt"]),
        Rejected("C1 control", ["a\u{85}.txt"]),
        Rejected("line separator", ["a\u{2028}.txt"]),
        Rejected("backslash", ["src\\a.txt"]),
        Rejected("windows parent", ["..\\outside.txt"]),
        Rejected("over-long path", [String(repeating: "p", count: 33)]),
        Rejected("over-long in bytes", [String(repeating: "é", count: 17)]),
        Rejected("duplicate", ["a.txt", "a.txt"]),
        Rejected("duplicate under canonical equivalence", ["\u{E9}.txt", "e\u{301}.txt"]),
        Rejected("a file that is also a directory", ["a", "a/b"]),
        Rejected("a directory that is also a file", ["src/x/y.js", "src/x"]),
        Rejected("too many files", ["a", "b", "c", "d"]),
        Rejected("too many bytes", ["a", "b"], contents: String(repeating: "x", count: 51)),
        Rejected("too many bytes in UTF-8", ["a"], contents: String(repeating: "é", count: 51)),
        Rejected("no files", []),
        Rejected("one bad among good", ["ok.txt", "../bad.txt"]),
    ]

    @Test(arguments: rejected)
    func aBadFileSetIsRefusedAndNothingIsStored(_ rejected: Rejected) async throws {
        try await withEngine(limits: Self.limits) { engine in
            let owner = try await engine.user()
            let project = try await engine.projects.create(user: owner, title: "Guarded")
            let before = try await engine.rowCounts()
            await expectEngineError(.invalidParameter, parameter: "files") {
                try await engine.versions.store(project: project.id, owner: owner, files: rejected.files)
            }
            #expect(try await engine.rowCounts() == before)
            let unchanged = try await engine.projects.get(project.id, owner: owner)
            #expect(unchanged.currentVersion == nil)
            #expect(unchanged.status == .draft)
        }
    }

    @Test(arguments: [
        "a", "a.txt", ".gitignore", "src/a/b/c.js", "...", "a..b", "..a", "a b/c d.txt", "naïve.txt",
        String(repeating: "p", count: 32), String(repeating: "é", count: 16),
    ])
    func ordinaryRelativePathsAreAccepted(path: String) throws {
        try PathRules.validate(path: path, limits: Self.limits)
    }

    @Test func filesAtEveryLimitAreStored() async throws {
        try await withEngine(limits: Self.limits) { engine in
            let owner = try await engine.user()
            let project = try await engine.projects.create(user: owner, title: "Full")
            let files = [
                ProjectFile(path: String(repeating: "p", count: 32), contents: String(repeating: "x", count: 50)),
                ProjectFile(path: "b", contents: String(repeating: "y", count: 50)),
                ProjectFile(path: "c", contents: ""),
            ]
            let version = try await engine.versions.store(project: project.id, files: files)
            #expect(version.files == 3)
            #expect(version.bytes == 100)
        }
    }

    @Test func theControlCheckAgreesWithTheUnicodePropertyForEveryScalar() {
        var disagreements: [UInt32] = []
        for value in UInt32(0)...0x10FFFF {
            guard let scalar = Unicode.Scalar(value) else { continue }
            let expected = scalar.properties.generalCategory == .control || value == 0x2028 || value == 0x2029
            if PathRules.isControl(scalar) != expected { disagreements.append(value) }
        }
        #expect(disagreements.isEmpty)
    }

    @Test func aFileNameIsTheLastNonEmptyComponent() {
        let paths = ["index.html", "src/App.jsx", "a/b/c.json", "src/", "a//b", "///", "", "/abs/x.js", ".vscode/settings.json", "é/日本.txt"]
        for path in paths {
            #expect(Validators.fileName(path) == (path.split(separator: "/").last.map(String.init) ?? path), "\(path)")
        }
    }
}
