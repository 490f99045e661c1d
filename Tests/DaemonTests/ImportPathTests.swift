import Foundation
import Protocol
import Testing
import VectortTesting

extension DaemonSuite {
    /// Files that an import would lose or could not write back are refused, by name, and
    /// nothing is stored.
    @Suite("Imports never drop a file silently")
    struct ImportPathTests {
        private func project(_ client: AsyncVectortClient) async throws -> String {
            let user = try await client.call(MethodName.usersCreate, ["email": .string("paths\(UInt32.random(in: 0...99999))@example.com")])
            let project = try await client.call(
                MethodName.projectsCreate, ["user": try #require(user["id"]), "title": "Paths"])
            return try #require(project["id"]?.stringValue)
        }

        /// Sends ImportFiles with `files` written as raw JSON (a Swift dictionary would already
        /// have merged canonically equivalent keys) and returns the reply.
        private func importRaw(_ client: AsyncVectortClient, project: String, files: String) async throws -> CallReply {
            let payload = #"{"method":"\#(MethodName.projectsImportFiles)","parameters":{"project":"\#(project)","files":\#(files)}}"#
            try await client.sendFrame(Array(payload.utf8))
            return try await client.receive()
        }

        private func versions(_ client: AsyncVectortClient, _ project: String) async throws -> Int {
            let list = try await client.call(MethodName.projectsListVersions, ["project": .string(project)])
            return list["versions"]?.arrayValue?.count ?? -1
        }

        @Test func namesThatDifferOnlyInNormalizationAreRefused() async throws {
            let daemon = try await DaemonProcess()
            let client = try await daemon.connect()
            let project = try await project(client)
            let reply = try await importRaw(client, project: project, files: "{\"\u{E9}.txt\": \"composed\", \"e\u{301}.txt\": \"decomposed\"}")
            #expect(reply.error == .invalidParameter)
            #expect(reply.parameters?["parameter"] == "files")
            #expect(try await versions(client, project) == 0)
        }

        @Test func aFileThatIsAlsoADirectoryIsRefused() async throws {
            let daemon = try await DaemonProcess()
            let client = try await daemon.connect()
            let project = try await project(client)
            let reply = try await importRaw(client, project: project, files: #"{"a": "file", "a/b": "inside"}"#)
            #expect(reply.error == .invalidParameter)
            #expect(reply.parameters?["parameter"] == "files")
            #expect(try await versions(client, project) == 0)
        }
    }
}
