import Foundation
import GRDB
import VectortTesting

/// What this disk allows without vectortd: single-row SQLite commits in WAL mode with
/// `synchronous=FULL`, one after the other, each waiting for its own flush. It is the ceiling of
/// one transaction per operation, and what group commit is measured against in spirit: the
/// faster the disk flushes, the less there is for batching to save.
enum DiskFloor {
    static func commitsPerSecond(seconds: Double) throws -> Double {
        let directory = try TemporaryDirectory(prefix: "vtdisk")
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        let queue = try DatabaseQueue(path: directory.file("floor.sqlite"), configuration: configuration)
        try queue.write { db in try db.execute(sql: "CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER NOT NULL)") }
        let clock = ContinuousClock()
        let start = clock.now
        let end = start + .milliseconds(Int64(seconds * 1000))
        var commits = 0
        try queue.inDatabase { db in
            let insert = try db.makeStatement(sql: "INSERT INTO t (v) VALUES (?)")
            while clock.now < end {
                try db.inTransaction(.immediate) {
                    try insert.execute(arguments: [commits])
                    return .commit
                }
                commits += 1
            }
        }
        return Double(commits) / (clock.now - start).seconds
    }
}
