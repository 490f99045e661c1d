import Foundation
import Testing
import VectortTesting

@Suite("A private PostgreSQL server for tests")
struct PostgresServerTests {
    @Test func startsOnItsOwnSocketServesADatabaseAndStops() async throws {
        let server = try await PostgresServer.start()
        let socket = server.socketDirectory + "/.s.PGSQL.\(PostgresServer.port)"
        #expect(FileManager.default.fileExists(atPath: socket))
        try await server.createDatabase("ledger_test")
        let answer = try await server.psql("SELECT current_user || ' ' || current_database() || ' ' || current_setting('fsync')", database: "ledger_test")
        #expect(answer.trimmingCharacters(in: .whitespacesAndNewlines) == "\(PostgresServer.superuser) ledger_test off")
        // Only the socket listens: no TCP.
        let listen = try await server.psql("SHOW listen_addresses", database: "postgres")
        #expect(listen.trimmingCharacters(in: .whitespacesAndNewlines) == "")
        // Two servers run side by side, each on its own copy of the cluster.
        let second = try await PostgresServer.start(durable: true)
        let fsync = try await second.psql("SHOW fsync", database: "postgres")
        #expect(fsync.trimmingCharacters(in: .whitespacesAndNewlines) == "on")
        #expect(await (try? second.psql("SELECT 1", database: "ledger_test")) == nil, "the database is the first server's alone")
        await second.stop()
        await server.stop()
        #expect(!FileManager.default.fileExists(atPath: socket))
    }

    @Test func aFailingStatementIsAnErrorWithPostgresMessage() async throws {
        let server = try await PostgresServer.start()
        await #expect {
            try await server.psql("SELECT * FROM no_such_table", database: "postgres")
        } throws: { error in
            "\(error)".contains("no_such_table")
        }
        await server.stop()
    }
}
