import Dispatch
import Foundation
import GRDB
import Logging
import Protocol
import Synchronization
import Testing
import VectortTesting

@testable import Engine
@testable import Generation
import VectortCore

@testable import Storage

/// Counts the commits of the writer connection; a request that reads the count while it runs
/// learns which transaction (batch) it is part of.
private final class CommitCounter: TransactionObserver, Sendable {
    private let commits = Mutex(0)

    var count: Int { commits.withLock { $0 } }

    func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool { false }
    func databaseDidChange(with event: DatabaseEvent) {}
    func databaseDidCommit(_ db: GRDB.Database) { commits.withLock { $0 += 1 } }
    func databaseDidRollback(_ db: GRDB.Database) {}
}

private struct ScratchFailure: Error, Equatable {
    let index: Int
}

@Suite("LedgerWriter: group commit with a savepoint per request")
struct GroupCommitTests {
    private func createScratchTable(_ engine: TestEngine) async throws -> CommitCounter {
        try await engine.pool.write { db in try db.execute(sql: "CREATE TABLE scratch (request INTEGER PRIMARY KEY)") }
        let counter = CommitCounter()
        try await engine.pool.writeWithoutTransaction { db in
            db.add(transactionObserver: counter, extent: .databaseLifetime)
        }
        return counter
    }

    private func scratchRows(_ engine: TestEngine) async throws -> Set<Int> {
        Set(try await engine.pool.read { db in try Int.fetchAll(db, sql: "SELECT request FROM scratch") })
    }

    /// The first request holds the writer until every other request is about to be queued, so
    /// the rest are committed together in as few transactions as the writer takes them.
    @Test func aRequestThatThrowsInABatchFailsAloneAndTheOthersCommit() async throws {
        try await withEngine { engine in
            let counter = try await createScratchTable(engine)
            let requests = 50
            let gate = DispatchSemaphore(value: 0)
            let arrived = Locked(0)

            let outcomes = await withTaskGroup(of: (Int, Result<Int, any Error>).self) { group in
                group.addTask {
                    let result = await Result<Int, any Error> {
                        try await engine.writer.write { _ in
                            _ = gate.wait(timeout: .now() + 30)
                            return -1
                        }
                    }
                    return (-1, result)
                }
                for index in 0..<requests {
                    group.addTask {
                        if arrived.withLock({ $0 += 1; return $0 }) == requests { gate.signal() }
                        let result = await Result<Int, any Error> {
                            try await engine.writer.write { db in
                                try db.execute(sql: "INSERT INTO scratch(request) VALUES (?)", arguments: [index])
                                if index.isMultiple(of: 5) { throw ScratchFailure(index: index) }
                                return counter.count
                            }
                        }
                        return (index, result)
                    }
                }
                return await group.reduce(into: [Int: Result<Int, any Error>]()) { $0[$1.0] = $1.1 }
            }

            var batches: [Int: Int] = [:]
            for index in 0..<requests {
                switch outcomes[index] {
                case .success(let batch):
                    #expect(!index.isMultiple(of: 5), "request \(index) should have failed")
                    batches[batch, default: 0] += 1
                case .failure(let error):
                    #expect(index.isMultiple(of: 5), "request \(index) failed: \(error)")
                    #expect(error as? ScratchFailure == ScratchFailure(index: index), "each request gets its own error")
                case nil:
                    Issue.record("request \(index) has no outcome")
                }
            }
            #expect(try await scratchRows(engine) == Set((0..<requests).filter { !$0.isMultiple(of: 5) }))
            #expect(counter.count < requests, "requests were committed together, not one by one")
            #expect(batches.values.contains { $0 > 1 })
        }
    }

    @Test func manyConcurrentLedgerWritesAllCommitThroughOneWriter() async throws {
        try await withEngine(freeOnSignup: 0) { engine in
            let user = try await engine.user()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<300 {
                    group.addTask { _ = try await engine.ledger.grant(user: user, amount: 1 + i % 3, reason: "g\(i)") }
                }
                try await group.waitForAll()
            }
            #expect(try await engine.ledger.balance(user: user).total == (0..<300).reduce(0) { $0 + 1 + $1 % 3 })
            #expect(try await engine.count("credit_entries") == 300)
            #expect(try await engine.ledger.verify().ok)
        }
    }

    /// Admins find the writer in `top -H` by name; Foundation's `Thread.name` alone never reached the kernel.
    @Test func requestsRunOnAThreadNamedForTheWriter() async throws {
        try await withEngine(freeOnSignup: 0) { engine in
            let name = try await engine.writer.write { _ in ThreadName.current() }
            #expect(name == LedgerWriter.threadName)
            let threads = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").map {
                (try? String(contentsOfFile: "/proc/self/task/\($0)/comm", encoding: .utf8))?
                    .trimmingCharacters(in: .newlines) ?? ""
            }
            #expect(threads.contains(Checkpointer.threadName))
        }
    }

    @Test func aThreadNameIsCutToWhatTheKernelKeepsAtACharacterBoundary() async throws {
        let name = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<String, any Error>) in
            Thread {
                ThreadName.setCurrent("vectortd-abcdeé-and-more")
                continuation.resume(returning: ThreadName.current())
            }.start()
        }
        // "vectortd-abcde" is 14 bytes; the two of "é" would end at 16, so it goes whole.
        #expect(name == "vectortd-abcde")
        #expect(name.utf8.count <= ThreadName.limit)
    }

    @Test func aBatchOfOneCommitsEveryRequestInItsOwnTransaction() async throws {
        try await withEngine(maxBatch: 1) { engine in
            #expect(engine.writer.maxBatch == 1)
            let counter = try await createScratchTable(engine)
            let results = try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<20 {
                    group.addTask {
                        try await engine.writer.write { db in
                            try db.execute(sql: "INSERT INTO scratch(request) VALUES (?)", arguments: [index])
                            return counter.count
                        }
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(Set(results).count == 20, "no two requests shared a transaction")
            #expect(counter.count == 20)
            #expect(try await scratchRows(engine) == Set(0..<20))
        }
    }

    @Test func aBatchSizeBelowOneMeansOne() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vte-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = try Database.open(path: directory.appendingPathComponent("db.sqlite").path, logger: .init(label: "t"))
        #expect(LedgerWriter(pool: database.pool, maxBatch: 0).maxBatch == 1)
        #expect(LedgerWriter(pool: database.pool).maxBatch == 512)
    }

    @Test func aWriteMayReturnNil() async throws {
        try await withEngine { engine in
            let value: Int? = try await engine.writer.write { _ in nil }
            #expect(value == nil)
        }
    }

    @Test func aStoppedWriterRefusesNewWritesAsUnavailable() async throws {
        try await withEngine { engine in
            let written = try await engine.writer.write { _ in 1 }
            #expect(written == 1)
            engine.writer.stop()
            await expectEngineError(.unavailable) { try await engine.writer.write { _ in 2 } }
            await expectEngineError(.unavailable) { try await engine.users.create(email: "late@example.com") }
        }
    }

    @Test func stoppingAnswersEveryQueuedRequestBeforeRunReturns() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vte-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = try Database.open(path: directory.appendingPathComponent("db.sqlite").path, logger: .init(label: "t"))
        let writer = LedgerWriter(pool: database.pool)
        try await database.pool.write { db in try db.execute(sql: "CREATE TABLE scratch (request INTEGER PRIMARY KEY)") }
        let answered = Locked(0)
        let queued = Locked(0)
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<30 {
                group.addTask {
                    queued.withLock { $0 += 1 }
                    if (try? await writer.write { db in
                        try db.execute(sql: "INSERT INTO scratch(request) VALUES (?)", arguments: [index])
                    }) != nil {
                        answered.withLock { $0 += 1 }
                    }
                }
            }
            group.addTask {
                _ = await Polling.until(every: .milliseconds(1)) { queued.withLock { $0 } == 30 ? true : nil }
                writer.stop()
                await writer.run()
            }
        }
        let rows = try await database.pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM scratch") }
        let accepted = answered.withLock { $0 }
        #expect(rows == accepted, "every request that was answered success is committed, and only those")
    }
}

extension Result where Failure == any Error {
    fileprivate init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
