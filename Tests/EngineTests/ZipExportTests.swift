import Foundation
import Protocol
import Testing
import VectortTesting

@testable import Engine
@testable import Generation
import VectortCore

@testable import Storage

private let unzip = "/usr/bin/unzip"

/// Reads archives back with Info-ZIP's `unzip`, an implementation independent of ZIPFoundation.
@Suite("ZIP export: the same paths, byte-identical contents", .enabled(if: FileManager.default.isExecutableFile(atPath: unzip)))
struct ZipExportTests {
    private static let files = [
        ProjectFile(path: "index.html", contents: "<!doctype html>\n<h1>Héllo ✓</h1>\r\n"),
        ProjectFile(path: "src/app/main.js", contents: "export const answer = 42;\n"),
        ProjectFile(path: "empty.txt", contents: ""),
        ProjectFile(path: ".gitignore", contents: "node_modules/\n"),
        ProjectFile(path: "emoji.txt", contents: "🎉 e\u{301} 日本語"),
        ProjectFile(path: "big/lorem.txt", contents: Self.largeText()),
        ProjectFile(path: "nul.txt", contents: "before\u{0}after"),
        ProjectFile(path: "img/logo.png", bytes: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0xFF, 0xFE]),
    ]

    /// About 200 KiB of varied text, larger than one deflate buffer.
    private static func largeText() -> String {
        var generator = SeededGenerator(seed: 42)
        let words = ["alpha", "beta", "γάμμα", "delta", "ε", "zeta", "\n", "\t", "データ", "0123456789"]
        var text = ""
        while text.utf8.count < 200 * 1024 {
            text += words[Int.random(in: 0..<words.count, using: &generator)] + " "
        }
        return text
    }

    @discardableResult
    private func run(_ arguments: [String]) async throws -> (status: Int32, output: [UInt8]) {
        let result = try await runCommand(unzip, arguments)
        return (result.status, result.stdoutBytes)
    }

    @Test(arguments: Backend.allCases) func anExportedArchiveHoldsEveryFileByteForByte(_ backend: Backend) async throws {
        try await withEngine(on: backend) { engine in
            let owner = try await engine.user()
            let project = try await engine.projects.create(user: owner, title: "Export me")
            let version = try await engine.versions.store(project: project.id, files: Self.files)
            let export = try await engine.exporter.export(project: project.id, owner: owner)
            #expect(export.project == project.id)
            #expect(export.version == version.id)
            #expect(export.filename == "\(project.id)-\(version.id).zip")
            let archive = try #require(Data(base64Encoded: export.zipBase64))
            #expect(archive.count == export.bytes)

            try FileManager.default.createDirectory(at: engine.directory, withIntermediateDirectories: true)
            let zipPath = engine.directory.appendingPathComponent("export.zip").path
            try archive.write(to: URL(fileURLWithPath: zipPath))
            #expect(try await run(["-tq", zipPath]).status == 0, "every entry's CRC checks out")

            let listing = try await run(["-Z1", zipPath])
            #expect(listing.status == 0)
            let names = String(decoding: listing.output, as: UTF8.self).split(separator: "\n").map(String.init)
            #expect(names.sorted() == Self.files.map(\.path).sorted())

            let extracted = engine.directory.appendingPathComponent("extracted")
            #expect(try await run(["-q", zipPath, "-d", extracted.path]).status == 0)
            for file in Self.files {
                let data = try Data(contentsOf: extracted.appendingPathComponent(file.path))
                #expect(data == Data(file.bytes), "\(file.path)")
            }
        }
    }

    @Test(arguments: Backend.allCases) func anOlderVersionCanBeExportedByNumber(_ backend: Backend) async throws {
        try await withEngine(on: backend) { engine in
            let owner = try await engine.user()
            let project = try await engine.projects.create(user: owner, title: "Versions")
            let v1 = try await engine.versions.store(project: project.id, files: [ProjectFile(path: "a.txt", contents: "one")])
            _ = try await engine.versions.store(project: project.id, files: [ProjectFile(path: "b.txt", contents: "two")])
            let export = try await engine.exporter.export(project: project.id, owner: owner, version: "1")
            #expect(export.version == v1.id)

            try FileManager.default.createDirectory(at: engine.directory, withIntermediateDirectories: true)
            let zipPath = engine.directory.appendingPathComponent("v1.zip").path
            try #require(Data(base64Encoded: export.zipBase64)).write(to: URL(fileURLWithPath: zipPath))
            #expect(String(decoding: try await run(["-Z1", zipPath]).output, as: UTF8.self) == "a.txt\n")
            #expect(String(decoding: try await run(["-p", zipPath, "a.txt"]).output, as: UTF8.self) == "one")
        }
    }

    @Test(arguments: Backend.allCases) func exportingTheSameVersionTwiceGivesTheSameArchive(_ backend: Backend) async throws {
        try await withEngine(on: backend) { engine in
            let owner = try await engine.user()
            let project = try await engine.projects.create(user: owner, title: "Stable")
            _ = try await engine.versions.store(project: project.id, files: Self.files)
            let first = try await engine.exporter.export(project: project.id, owner: owner)
            engine.clock.advance(by: .seconds(3600))
            let second = try await engine.exporter.export(project: project.id, owner: owner)
            #expect(first == second, "entries are dated by the version, not by the export")
        }
    }

    @Test(arguments: Backend.allCases) func aProjectWithoutVersionsHasNothingToExport(_ backend: Backend) async throws {
        try await withEngine(on: backend) { engine in
            let owner = try await engine.user()
            let project = try await engine.projects.create(user: owner, title: "Empty")
            await expectEngineError(.notFound) { try await engine.exporter.export(project: project.id, owner: owner) }
        }
    }
}
