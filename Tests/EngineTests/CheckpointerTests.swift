import Foundation
import GRDB
import Testing

@testable import Engine
@testable import Generation
import VectortCore

@testable import Storage

@Suite("Checkpoints run beside the writer")
struct CheckpointerTests {
    private func fileSize(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? 0
    }

    @Test func theDatabaseFileReceivesCommittedPagesWithoutTheWriterCheckpointing() async throws {
        try await withEngine { engine in
            let path = engine.database.path
            try await engine.writer.write { db in
                try db.execute(sql: "CREATE TABLE scratch (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)")
            }
            let before = fileSize(path)
            // About 1 MB over 16 batches: far below the writer's own 10,000-page fallback, so
            // only the checkpointer can move these pages into the database file.
            let payload = String(repeating: "x", count: 8_000)
            for batch in 0..<16 {
                try await engine.writer.write { db in
                    for row in 0..<8 {
                        try db.execute(
                            sql: "INSERT INTO scratch(id, payload) VALUES (?, ?)", arguments: [batch * 8 + row, payload])
                    }
                }
            }
            var grown = false
            for _ in 0..<200 where !grown {
                grown = fileSize(path) > before + 500_000
                if !grown { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(grown, "the database file grew from \(before) to \(fileSize(path)) bytes")
            #expect(try await engine.count("scratch") == 128)
        }
    }
}
