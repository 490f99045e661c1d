import Foundation
import GRDB
import Protocol
import Synchronization
import Testing
import VectortTesting

@testable import Engine
@testable import Generation
import VectortCore

@testable import Storage

@Suite("Balance cache: committed balances in memory, kept by the writer")
struct BalanceCacheTests {
    /// The balance as the database has it, bypassing the cache.
    private func stored(_ engine: TestEngine, _ user: String) async throws -> CreditBalance {
        let now = engine.clock.date
        return try await engine.pool.read { db in try SQLiteLedger.balance(db, user: user, now: now) }
    }

    @Test func aCallerReadsItsOwnWritesAtOnce() async throws {
        try await withEngine(freeOnSignup: 10) { engine in
            let user = try await engine.user()
            #expect(try await engine.ledger.balance(user: user).total == 10)
            #expect(engine.writer.balances.cached(user) != nil, "the first read cached it")

            let hold = try await engine.ledger.hold(user: user, amount: 4, reference: "r")
            var balance = try await engine.ledger.balance(user: user)
            #expect(balance.total == 6)
            #expect(balance.held == 4)

            _ = try await engine.ledger.settle(hold: hold.id, charged: 3)
            balance = try await engine.ledger.balance(user: user)
            #expect(balance.total == 7)
            #expect(balance.held == 0)
            #expect(balance == (try await stored(engine, user)))

            _ = try await engine.ledger.grant(user: user, amount: 5, bucket: .topup, reason: "gift")
            #expect(try await engine.ledger.balance(user: user) == (try await stored(engine, user)))
        }
    }

    @Test func aRefusedWriteLeavesTheCachedBalanceAsCommitted() async throws {
        try await withEngine(freeOnSignup: 3) { engine in
            let user = try await engine.user()
            let before = try await engine.ledger.balance(user: user)
            await expectEngineError(.insufficientCredits) {
                try await engine.ledger.hold(user: user, amount: 4, reference: "too much")
            }
            #expect(try await engine.ledger.balance(user: user) == before)
            #expect(before == (try await stored(engine, user)))
        }
    }

    @Test func monthlyCreditsStopCountingWhenTheyExpireEvenWhenCached() async throws {
        try await withEngine(freeOnSignup: 0) { engine in
            let user = try await engine.user()
            _ = try await engine.ledger.grant(
                user: user, amount: 5, bucket: .monthly, reason: "plan",
                expiresAt: engine.clock.date.addingTimeInterval(3600))
            var balance = try await engine.ledger.balance(user: user)
            #expect(balance.buckets["monthly"] == 5)
            #expect(balance.monthlyExpiresAt != nil)

            engine.clock.advance(by: .seconds(7200))
            #expect(engine.writer.balances.cached(user) != nil)
            balance = try await engine.ledger.balance(user: user)
            #expect(balance.buckets["monthly"] == 0)
            #expect(balance.total == 0)
            #expect(balance.monthlyExpiresAt == nil)
            #expect(balance == (try await stored(engine, user)))
        }
    }

    @Test func anUnknownUserIsNotFoundAndNotCached() async throws {
        try await withEngine { engine in
            await expectEngineError(.notFound) { try await engine.ledger.balance(user: "u_missing") }
            #expect(engine.writer.balances.cached("u_missing") == nil)
        }
    }

    @Test func underMixedParallelLoadEveryCachedBalanceEqualsTheDatabase() async throws {
        try await withEngine(freeOnSignup: 100) { engine in
            var users: [String] = []
            for _ in 0..<8 { users.append(try await engine.user()) }
            let everyone = users
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<400 {
                    let user = everyone[(i / 4) % everyone.count]
                    group.addTask {
                        switch i % 4 {
                        case 0:
                            let hold = try await engine.ledger.hold(user: user, amount: 1 + (i / 4) % 3, reference: "p\(i)")
                            _ = try await engine.ledger.settle(hold: hold.id, charged: (i / 4) % 2)
                        case 1:
                            let hold = try await engine.ledger.hold(user: user, amount: 2, reference: "p\(i)")
                            _ = try await engine.ledger.release(hold: hold.id)
                        case 2:
                            _ = try await engine.ledger.grant(user: user, amount: 1, reason: "g\(i)")
                        default:
                            _ = try await engine.ledger.balance(user: user)
                        }
                    }
                }
                try await group.waitForAll()
            }
            for user in everyone {
                #expect(try await engine.ledger.balance(user: user) == (try await stored(engine, user)))
            }
            #expect(try await engine.ledger.verify().ok)
        }
    }

    // MARK: The cache alone

    private static func rows(_ free: Int) -> BalanceRows {
        BalanceRows(buckets: [.free: free])
    }

    /// Reads u1 through `cache`, its load returning `rows(1)`, and runs `meanwhile` while the
    /// load is between its snapshot and its return.
    private static func readU1(_ cache: BalanceCache, meanwhile: () -> Void) async throws -> BalanceRows {
        let loading = AsyncGate()
        let proceed = AsyncGate()
        async let read = cache.rows("u1") {
            await loading.open()
            await proceed.wait()
            return Self.rows(1)
        }
        await loading.wait()
        meanwhile()
        await proceed.open()
        return try await read
    }

    @Test func aLoadThatACommitOvertookIsNotKept() async throws {
        let cache = BalanceCache()
        // A commit touching u1 lands while the reader holds the older rows.
        let read = try await Self.readU1(cache) { cache.publish(.init(touched: ["u1"], fresh: ["u1": Self.rows(2)])) }
        #expect(read == Self.rows(1), "the reader gets what it read")
        #expect(cache.cached("u1") == Self.rows(2), "the cache keeps the commit's rows, not the older read")
    }

    @Test func aLoadIsKeptWhenOnlyOtherUsersWereTouched() async throws {
        let cache = BalanceCache()
        _ = try await Self.readU1(cache) { cache.publish(.init(touched: ["u2"], fresh: ["u2": Self.rows(7)])) }
        #expect(cache.cached("u1") == Self.rows(1))
        #expect(cache.cached("u2") == Self.rows(7))
    }

    @Test func aTouchedUserWithoutFreshRowsLeavesTheCache() async throws {
        let cache = BalanceCache()
        _ = try await cache.rows("u1") { Self.rows(1) }
        #expect(cache.wanted(["u1", "u2"]) == ["u1"], "only cached or loading users are reloaded")
        cache.publish(.init(touched: ["u1"], fresh: [:]))
        #expect(cache.cached("u1") == nil)
    }

    @Test func aUserNeverReadIsNotCachedByWrites() async throws {
        try await withEngine(freeOnSignup: 10) { engine in
            let user = try await engine.user()
            _ = try await engine.ledger.hold(user: user, amount: 1, reference: "r")
            #expect(engine.writer.balances.cached(user) == nil)
            #expect(try await engine.ledger.balance(user: user).held == 1)
            #expect(engine.writer.balances.cached(user) != nil)
        }
    }

    @Test func aFailedLoadKeepsNothing() async throws {
        let cache = BalanceCache()
        await #expect(throws: EngineError.self) {
            try await cache.rows("u1") { throw EngineError.notFound("user", "u1") }
        }
        #expect(cache.cached("u1") == nil)
        _ = try await cache.rows("u1") { Self.rows(3) }
        #expect(cache.cached("u1") == Self.rows(3), "the failed load left no pending mark behind")
    }

    @Test func theCacheHoldsAtMostItsCapacity() {
        let cache = BalanceCache(capacity: 2)
        cache.publish(.init(touched: ["a", "b", "c"], fresh: ["a": Self.rows(1), "b": Self.rows(2), "c": Self.rows(3)]))
        #expect(cache.count == 2)
        cache.publish(.init(touched: ["c"], fresh: ["c": Self.rows(4)]))
        #expect(cache.count == 2)
        #expect(cache.cached("c") == Self.rows(4))
    }

    @Test func aDisabledCacheReadsEveryTime() async throws {
        let cache = BalanceCache()
        cache.publish(.init(touched: ["u1"], fresh: ["u1": Self.rows(1)]))
        cache.disable()
        let loads = Mutex(0)
        for _ in 0..<3 {
            _ = try await cache.rows("u1") {
                loads.withLock { $0 += 1 }
                return Self.rows(5)
            }
        }
        #expect(loads.withLock { $0 } == 3)
        #expect(cache.cached("u1") == nil)
    }
}

/// A one-shot gate: `wait` returns once `open` has been called.
private actor AsyncGate {
    private var isOpen = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func open() {
        isOpen = true
        for waiter in waiters { waiter.resume() }
        waiters = []
    }

    func wait() async {
        if isOpen { return }
        await withCheckedContinuation { waiters.append($0) }
    }
}
