import Foundation
import Protocol
import Testing

@testable import Engine
@testable import Generation
import VectortCore

@testable import Storage

@Suite("Versions: immutable file sets and the current version")
struct VersionTests {
    private let first = [
        ProjectFile(path: "src/main.js", contents: "console.log('v1')\n"),
        ProjectFile(path: "index.html", contents: "<h1>v1</h1>\n"),
        ProjectFile(path: "README.md", contents: "# v1 ✓\n"),
    ]
    private let second = [
        ProjectFile(path: "index.html", contents: "<h1>v2</h1>\n"),
        ProjectFile(path: "css/site.css", contents: "body{}"),
    ]

    @Test(arguments: Backend.allCases) func storingNumbersVersionsAndMakesTheNewestCurrent(_ backend: Backend) async throws {
        try await withEngine(on: backend) { engine in
            let owner = try await engine.user()
            let project = try await engine.projects.create(user: owner, title: "Site")
            let v1 = try await engine.versions.store(
                project: project.id, owner: owner, files: first,
                origin: .init(generation: "g_1", provider: "anthropic", model: "claude"))
            #expect(v1.number == 1)
            #expect(v1.current)
            #expect(v1.files == 3)
            #expect(v1.bytes == first.reduce(0) { $0 + $1.contents.utf8.count })
            #expect(v1.generation == "g_1")
            #expect(v1.provider == "anthropic")
            #expect(v1.model == "claude")
            var loaded = try await engine.projects.get(project.id, owner: owner)
            #expect(loaded.currentVersion == v1.id)
            #expect(loaded.status == .completed)

            let v2 = try await engine.versions.store(project: project.id, files: second)
            #expect(v2.number == 2)
            #expect(v2.id != v1.id)
            loaded = try await engine.projects.get(project.id, owner: owner)
            #expect(loaded.currentVersion == v2.id)

            let list = try await engine.versions.list(project: project.id, owner: owner)
            #expect(list.versions.map(\.number) == [2, 1])
            #expect(list.versions.map(\.current) == [true, false])
            #expect(list.versions.map(\.id) == [v2.id, v1.id])
        }
    }

    @Test(arguments: Backend.allCases) func codeReturnsEveryFileSortedByPath(_ backend: Backend) async throws {
        try await withEngine(on: backend) { engine in
            let owner = try await engine.user()
            let project = try await engine.projects.create(user: owner, title: "Site")
            let v1 = try await engine.versions.store(project: project.id, files: first)
            let code = try await engine.versions.code(project: project.id, owner: owner)
            #expect(code.version == v1.id)
            #expect(code.project == project.id)
            #expect(code.files == first.sorted { $0.path < $1.path })
        }
    }

    @Test(arguments: Backend.allCases) func codeReturnsOnePathOrAGivenVersionByNumberOrID(_ backend: Backend) async throws {
        try await withEngine(on: backend) { engine in
            let owner = try await engine.user()
            let project = try await engine.projects.create(user: owner, title: "Site")
            let v1 = try await engine.versions.store(project: project.id, files: first)
            let v2 = try await engine.versions.store(project: project.id, files: second)

            let current = try await engine.versions.code(project: project.id, owner: owner, path: "index.html")
            #expect(current.version == v2.id)
            #expect(current.files == [ProjectFile(path: "index.html", contents: "<h1>v2</h1>\n")])

            let byNumber = try await engine.versions.code(project: project.id, owner: owner, version: "1")
            #expect(byNumber.version == v1.id)
            #expect(byNumber.files == first.sorted { $0.path < $1.path })
            let byID = try await engine.versions.code(project: project.id, owner: owner, version: v1.id, path: "index.html")
            #expect(byID.files == [ProjectFile(path: "index.html", contents: "<h1>v1</h1>\n")])
            #expect(try await engine.versions.code(project: project.id, owner: owner, version: "2") == engine.versions.code(
                project: project.id, owner: owner))

            await expectEngineError(.notFound) {
                try await engine.versions.code(project: project.id, owner: owner, path: "src/main.js")
            }
            await expectEngineError(.notFound) { try await engine.versions.code(project: project.id, owner: owner, version: "3") }
            await expectEngineError(.notFound) { try await engine.versions.code(project: project.id, owner: owner, version: "0") }
            await expectEngineError(.notFound) {
                try await engine.versions.code(project: project.id, owner: owner, version: "v_0000000000000000")
            }
        }
    }

    @Test(arguments: Backend.allCases) func aVersionOfAnotherProjectIsNotFound(_ backend: Backend) async throws {
        try await withEngine(on: backend) { engine in
            let owner = try await engine.user()
            let a = try await engine.projects.create(user: owner, title: "A")
            let b = try await engine.projects.create(user: owner, title: "B")
            let aVersion = try await engine.versions.store(project: a.id, files: first)
            _ = try await engine.versions.store(project: b.id, files: second)
            await expectEngineError(.notFound) { try await engine.versions.code(project: b.id, owner: owner, version: aVersion.id) }
        }
    }

    @Test(arguments: Backend.allCases) func aProjectWithoutVersionsHasNoCode(_ backend: Backend) async throws {
        try await withEngine(on: backend) { engine in
            let owner = try await engine.user()
            let project = try await engine.projects.create(user: owner, title: "Empty")
            await expectEngineError(.notFound) { try await engine.versions.code(project: project.id, owner: owner) }
            #expect(try await engine.versions.list(project: project.id, owner: owner).versions.isEmpty)
        }
    }

    @Test(arguments: Backend.allCases) func storedFilesAreReturnedByteForByte(_ backend: Backend) async throws {
        try await withEngine(on: backend) { engine in
            let owner = try await engine.user()
            let project = try await engine.projects.create(user: owner, title: "Bytes")
            let files = [
                ProjectFile(path: "crlf.txt", contents: "line one\r\nline two\r\n"),
                ProjectFile(path: "empty.txt", contents: ""),
                ProjectFile(path: "unicode.txt", contents: "naïve café — 日本語 🎉\u{301}"),
                ProjectFile(path: "tabs.txt", contents: "\t\tindented\n   \n"),
            ]
            _ = try await engine.versions.store(project: project.id, files: files)
            let code = try await engine.versions.code(project: project.id, owner: owner)
            for file in files {
                let stored = try #require(code.files.first { $0.path == file.path })
                #expect(Array(stored.contents.utf8) == Array(file.contents.utf8), "\(file.path)")
            }
        }
    }

    @Test(arguments: Backend.allCases) func textWithNULAndBinaryFilesRoundTripByteForByte(_ backend: Backend) async throws {
        try await withEngine(on: backend) { engine in
            let owner = try await engine.user()
            let project = try await engine.projects.create(user: owner, title: "NUL")
            // A PNG's signature and header: 0x89 is not UTF-8, and the bytes hold NULs.
            let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, 0x49, 0x48, 0x44, 0x52, 0xFF, 0]
            let files = [
                ProjectFile(path: "page.html", contents: "<p>before\u{0}after</p>"),
                ProjectFile(path: "logo.png", bytes: png),
            ]
            #expect(files[1].isBinary)
            let stored = try await engine.versions.store(project: project.id, files: files)
            #expect(stored.bytes == "<p>before\u{0}after</p>".utf8.count + png.count, "bytes counts every byte, NULs included")
            let code = try await engine.versions.code(project: project.id, owner: owner)
            let page = try #require(code.files.first { $0.path == "page.html" })
            #expect(page.contents == "<p>before\u{0}after</p>")
            #expect(!page.isBinary)
            let logo = try #require(code.files.first { $0.path == "logo.png" })
            #expect(logo.binary == png)
        }
    }

    @Test(arguments: Backend.allCases) func nulInANameKeyOrReasonIsRefusedNamingIt(_ backend: Backend) async throws {
        try await withEngine(on: backend) { engine in
            let owner = try await engine.user()
            await expectEngineError(.invalidParameter, parameter: "title") {
                try await engine.projects.create(user: owner, title: "Soap\u{0}Shop")
            }
            await expectEngineError(.invalidParameter, parameter: "idempotency_key") {
                try await engine.ledger.grant(user: owner, amount: 5, reason: "promo", idempotencyKey: "job\u{0}-1")
            }
            await expectEngineError(.invalidParameter, parameter: "reason") {
                try await engine.ledger.grant(user: owner, amount: 5, reason: "promo\u{0}x")
            }
            await expectEngineError(.invalidParameter, parameter: "reference") {
                try await engine.ledger.hold(user: owner, amount: 1, reference: "r\u{0}1")
            }
            await expectEngineError(.invalidParameter, parameter: "full_name") {
                try await engine.users.create(email: "nul@example.com", fullName: "A\u{0}B")
            }
            #expect(try await engine.ledger.balance(user: owner).total == 10, "nothing was granted or held")
        }
    }
}
