import Foundation
import Protocol
import Testing
import VectortTesting

@testable import Engine
@testable import Generation
import VectortCore

@testable import Storage

@Suite("Projects: ownership, pages, updates, deletion")
struct ProjectTests {
    @Test(arguments: Backend.allCases) func aCreatedProjectIsADraftItsOwnerCanRead(_ backend: Backend) async throws {
        try await withEngine(on: backend) { engine in
            let owner = try await engine.user()
            let project = try await engine.projects.create(
                user: owner, title: "  Landing page  ", description: "for the bakery", type: "website")
            #expect(project.title == "Landing page")
            #expect(project.description == "for the bakery")
            #expect(project.type == "website")
            #expect(project.status == .draft)
            #expect(project.config == [:])
            #expect(project.currentVersion == nil)
            #expect(project.user == owner)
            #expect(try await engine.projects.get(project.id, owner: owner) == project)
            #expect(try await engine.projects.get(project.id, owner: nil) == project, "an admin names no owner")
        }
    }

    @Test(arguments: Backend.allCases) func anotherUsersProjectIsNotFound(_ backend: Backend) async throws {
        try await withEngine(on: backend) { engine in
            let owner = try await engine.user()
            let stranger = try await engine.user()
            let project = try await engine.projects.create(user: owner, title: "Mine")
            let error = await expectEngineError(.notFound) { try await engine.projects.get(project.id, owner: stranger) }
            #expect(error?.details["kind"] == .string("project"))
            let before = try await engine.rowCounts()
            await expectEngineError(.notFound) {
                try await engine.projects.update(project.id, owner: stranger, title: "Theirs now")
            }
            await expectEngineError(.notFound) { try await engine.projects.delete(project.id, owner: stranger) }
            await expectEngineError(.notFound) {
                try await engine.versions.store(
                    project: project.id, owner: stranger, files: [ProjectFile(path: "a.txt", contents: "x")])
            }
            await expectEngineError(.notFound) { try await engine.versions.list(project: project.id, owner: stranger) }
            await expectEngineError(.notFound) { try await engine.exporter.export(project: project.id, owner: stranger) }
            #expect(try await engine.rowCounts() == before)
            #expect(try await engine.projects.get(project.id, owner: owner).title == "Mine")
            #expect(try await engine.projects.list(user: stranger).projects.isEmpty)
        }
    }

    @Test(arguments: Backend.allCases) func projectsArePagedOldestFirstPerUser(_ backend: Backend) async throws {
        try await withEngine(on: backend) { engine in
            let owner = try await engine.user()
            let other = try await engine.user()
            var ids: [String] = []
            for i in 0..<5 {
                ids.append(try await engine.projects.create(user: owner, title: "p\(i)").id)
                _ = try await engine.projects.create(user: other, title: "other \(i)")
            }
            var seen: [String] = []
            var after: String?
            var pages: [Int] = []
            repeat {
                let page = try await engine.projects.list(user: owner, limit: 2, after: after)
                seen += page.projects.map(\.id)
                pages.append(page.projects.count)
                after = page.nextAfter
            } while after != nil
            #expect(seen == ids)
            #expect(pages == [2, 2, 1])
            #expect(try await engine.projects.list(user: owner, limit: 5).nextAfter == nil)

            let othersProject = try await engine.projects.list(user: other, limit: 1).projects[0].id
            await expectEngineError(.invalidParameter, parameter: "after") {
                try await engine.projects.list(user: owner, after: othersProject)
            }
            await expectEngineError(.invalidParameter, parameter: "limit") { try await engine.projects.list(user: owner, limit: 0) }
            await expectEngineError(.invalidParameter, parameter: "limit") {
                try await engine.projects.list(user: owner, limit: 501)
            }
            await expectEngineError(.notFound) { try await engine.projects.list(user: "u_0000000000000000") }
        }
    }

    @Test(arguments: Backend.allCases) func updatingChangesOnlyWhatIsGiven(_ backend: Backend) async throws {
        try await withEngine(on: backend) { engine in
            let owner = try await engine.user()
            let project = try await engine.projects.create(user: owner, title: "Old", description: "old text")
            engine.clock.advance(by: .seconds(60))
            let config: [String: JSONValue] = [
                "mode": .string("advanced"), "pages": .int(3), "dark": .bool(true),
                "palette": .array([.string("#fff"), .string("#000")]),
            ]
            let updated = try await engine.projects.update(project.id, owner: owner, title: "New", config: config)
            #expect(updated.title == "New")
            #expect(updated.description == "old text")
            #expect(updated.config == config)
            #expect(updated.createdAt == project.createdAt)
            #expect(updated.updatedAt > project.updatedAt)

            let described = try await engine.projects.update(project.id, owner: owner, description: "new text")
            #expect(described.title == "New")
            #expect(described.description == "new text")
            #expect(described.config == config)
            #expect(try await engine.projects.get(project.id, owner: owner) == described)
        }
    }

    @Test(arguments: Backend.allCases) func deletingAProjectRemovesItsVersionsAndFiles(_ backend: Backend) async throws {
        try await withEngine(on: backend) { engine in
            let owner = try await engine.user()
            let project = try await engine.projects.create(user: owner, title: "Doomed")
            let kept = try await engine.projects.create(user: owner, title: "Kept")
            for _ in 0..<2 {
                _ = try await engine.versions.store(
                    project: project.id, files: [ProjectFile(path: "a.txt", contents: "a"), ProjectFile(path: "b.txt", contents: "b")])
            }
            _ = try await engine.versions.store(project: kept.id, files: [ProjectFile(path: "k.txt", contents: "k")])
            #expect(try await engine.projects.delete(project.id, owner: owner) == Done(id: project.id))
            await expectEngineError(.notFound) { try await engine.projects.get(project.id, owner: owner) }
            await expectEngineError(.notFound) { try await engine.projects.delete(project.id, owner: owner) }
            #expect(try await engine.count("versions") == 1)
            #expect(try await engine.count("version_files") == 1)
            #expect(try await engine.versions.code(project: kept.id, owner: owner).files.map(\.path) == ["k.txt"])
        }
    }

    @Test(arguments: ["", "   ", String(repeating: "t", count: 201)])
    func aTitleMustBeOneTo200Characters(title: String) async throws {
        try await withEngine { engine in
            let owner = try await engine.user()
            let before = try await engine.rowCounts()
            await expectEngineError(.invalidParameter, parameter: "title") {
                try await engine.projects.create(user: owner, title: title)
            }
            #expect(try await engine.rowCounts() == before)
            let project = try await engine.projects.create(user: owner, title: String(repeating: "t", count: 200))
            await expectEngineError(.invalidParameter, parameter: "title") {
                try await engine.projects.update(project.id, owner: owner, title: title)
            }
            #expect(try await engine.projects.get(project.id, owner: owner).title == String(repeating: "t", count: 200))
        }
    }

    @Test(arguments: Backend.allCases) func descriptionsTypesAndConfigsAreBounded(_ backend: Backend) async throws {
        try await withEngine(on: backend) { engine in
            let owner = try await engine.user()
            await expectEngineError(.invalidParameter, parameter: "description") {
                try await engine.projects.create(user: owner, title: "t", description: String(repeating: "d", count: 10_001))
            }
            await expectEngineError(.invalidParameter, parameter: "type") {
                try await engine.projects.create(user: owner, title: "t", type: "")
            }
            await expectEngineError(.invalidParameter, parameter: "type") {
                try await engine.projects.create(user: owner, title: "t", type: String(repeating: "y", count: 51))
            }
            let project = try await engine.projects.create(user: owner, title: "t")
            await expectEngineError(.invalidParameter, parameter: "config") {
                try await engine.projects.update(
                    project.id, owner: owner, config: ["blob": .string(String(repeating: "c", count: 70_000))])
            }
            #expect(try await engine.projects.get(project.id, owner: owner).config == [:])
        }
    }

    @Test(arguments: Backend.allCases) func projectsNeedAnActiveUser(_ backend: Backend) async throws {
        try await withEngine(on: backend) { engine in
            let owner = try await engine.user()
            _ = try await engine.users.disable(owner)
            await expectEngineError(.conflict) { try await engine.projects.create(user: owner, title: "t") }
            await expectEngineError(.notFound) { try await engine.projects.create(user: "u_0000000000000000", title: "t") }
            #expect(try await engine.count("projects") == 0)
        }
    }
}
