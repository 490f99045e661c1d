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

        @Test func textWithNULAndBinaryFilesSurviveImportAndGetCodeByteForByte() async throws {
            let daemon = try await DaemonProcess()
            let client = try await daemon.connect()
            let project = try await project(client)
            let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, 0xFF]
            let imported = try await importRaw(
                client, project: project,
                files: #"{"page.html": "<p>before\u0000after</p>", "logo.png": {"base64": "\#(Data(png).base64EncodedString())"}}"#)
            #expect(imported.error == nil, "\(imported)")
            #expect(imported.parameters?["bytes"] == .int(Int64("<p>before\u{0}after</p>".utf8.count + png.count)))
            let code = try await client.call(MethodName.projectsGetCode, ["project": .string(project)])
            let files = code["files"]?.arrayValue ?? []
            let page = files.first { $0["path"] == "page.html" }
            #expect(page?["contents"] == "<p>before\u{0}after</p>")
            let logo = files.first { $0["path"] == "logo.png" }
            #expect(logo?["contents"] == nil)
            #expect(logo?["contents_base64"]?.stringValue.flatMap { Data(base64Encoded: $0) } == Data(png))
        }

        @Test func nulInAKeyOrNameIsRefusedAndChangesNothing() async throws {
            let daemon = try await DaemonProcess()
            let client = try await daemon.connect()
            let user = try await client.call(MethodName.usersCreate, ["email": "keys@example.com"])
            let userID = try #require(user["id"]?.stringValue)
            for key in ["job\u{0}-1", "job\u{0}-2"] {
                await #expect {
                    _ = try await client.call(
                        MethodName.creditsGrant,
                        ["user": .string(userID), "amount": 5, "reason": "r", "idempotency_key": .string(key)])
                } throws: { error in
                    let wire = (error as? VectortClientError)?.remoteError
                    return wire?.name == .invalidParameter && wire?.details["parameter"] == "idempotency_key"
                }
            }
            let balance = try await client.call(MethodName.creditsGetBalance, ["user": .string(userID)])
            #expect(balance["total"] == .int(10))
        }
    }
}
