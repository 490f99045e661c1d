import Foundation
import Protocol
import Testing
import VectortTesting

extension DaemonSuite {
    /// The daemon on PostgreSQL (`database.url`): the same calls, the same answers, the journal
    /// in the server; a URL with a password in it is refused before anything starts.
    @Suite("vectortd on PostgreSQL")
    struct PostgresDaemonTests {
        @Test func aUserBuildsAnAppAndIsChargedWithTheLedgerInPostgres() async throws {
            let server = try await PostgresServer.start()
            do {
                try await server.createDatabase("vectortd")
                var options = DaemonProcess.Options()
                options.config = """
                    log:
                      level: warning
                    database:
                      url: "\(server.url(database: "vectortd"))"

                    """
                let daemon = try await DaemonProcess(options)
                let client = try await daemon.connect(timeout: .seconds(60))
                let (user, project) = try await GenerationDaemonTests.userAndProject(client)
                let result = try await client.callStreaming(
                    MethodName.projectsGenerate,
                    ["user": .string(user), "project": .string(project), "prompt": .string("a shop for handmade soap")],
                    timeout: 120
                ) { _ in }
                #expect(result["provider"] == .string("template"))
                #expect(result["version_number"] == .int(1))
                let charged = try #require(result["credits_charged"]?.intValue)
                let balance = try await client.call(MethodName.creditsGetBalance, ["user": .string(user)])
                #expect(balance["total"]?.intValue == 10 - charged, "the signup grant less the generation")
                let verify = try await client.call(MethodName.creditsVerify)
                #expect(verify["mismatches"]?.arrayValue?.isEmpty == true)
                let code = try await client.call(MethodName.projectsGetCode, ["project": .string(project), "user": .string(user)])
                #expect((code["files"]?.arrayValue?.count ?? 0) > 0)
                // GetInfo and status say where the data is, and which nodes are live.
                let info = try await client.call(MethodName.getInfo)
                #expect(info["storage"]?["backend"] == .string("postgresql"))
                let node = try #require(info["storage"]?["node"]?.stringValue)
                #expect(node.hasSuffix(":" + daemon.directory.file("state")) || node.contains("state"), "\(node)")
                #expect(info["storage"]?["nodes"]?.arrayValue?.compactMap(\.stringValue) == [node])
                let status = try await runCommand(
                    Binaries.vectortctl, ["status"], environment: ["PATH": "/usr/bin:/bin", "VECTORTD_SOCKET": daemon.socketPath])
                #expect(status.stdout.contains("postgresql (node \(node); 1 live"), "\(status.stdout)")
                // The journal is in the server.
                let entries = try await server.psql(
                    "SELECT string_agg(kind, ',' ORDER BY id) FROM credit_entries WHERE user_id = '\(user)'", database: "vectortd")
                #expect(entries.trimmingCharacters(in: .whitespacesAndNewlines) == "grant,hold,release,usage")
                daemon.signal(SIGTERM)
                #expect(await daemon.waitForExit(timeout: .seconds(60)) == 0)
                await server.stop()
            } catch {
                await server.stop()
                throw error
            }
        }

        @Test func withoutAURLTheDataIsInSQLite() async throws {
            let daemon = try await DaemonProcess()
            let client = try await daemon.connect()
            let info = try await client.call(MethodName.getInfo)
            #expect(info["storage"] == .object(["backend": "sqlite"]))
            // One node owns a SQLite file: the fleet's view is this node alone.
            let fleet = try await client.call(MethodName.providersList, ["all_nodes": true]).decode(as: ProviderList.self)
            let nodes = try #require(fleet.nodes)
            #expect(nodes.count == 1 && nodes[0].current && nodes[0].live, "\(nodes)")
            #expect(nodes[0].node.hasSuffix(":" + daemon.directory.file("state")), "\(nodes[0].node)")
            #expect(nodes[0].providers == fleet.providers && nodes[0].chain == fleet.chain)
            let plain = try await client.call(MethodName.providersList)
            #expect(plain["nodes"] == nil, "without all_nodes the reply is as before")
        }

        @Test func aDatabaseURLWithAPasswordIsRefusedAtStart() async throws {
            var options = DaemonProcess.Options()
            options.config = """
                database:
                  url: "postgres://vectort:hunter2@db.example.com/vectortd"

                """
            let daemon = try await DaemonProcess(options)
            let status = await daemon.waitForExit(timeout: .seconds(60))
            #expect(status != nil && status != 0)
            #expect(daemon.output.contains("database.url"), "\(daemon.output)")
            #expect(daemon.output.contains("database-password"), "\(daemon.output)")
            #expect(!daemon.output.contains("hunter2"), "the password is never printed")
        }
    }
}
