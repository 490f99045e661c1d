import Foundation
public import Logging
public import Protocol
package import Storage
public import VectortCore

/// The engine over one database: its services share one group-commit writer and one pool of
/// readers, which never leave it. `Engine.open` is the one way to make it.
///
/// The writer's loop runs in `run()` (a service's body in the daemon); until then writes wait.
public struct Engine: Sendable {
    /// What the engine is opened with.
    public struct Options: Sendable {
        public var databasePath: String
        /// Most write requests committed in one transaction.
        public var maxBatch: Int
        public var packages: [CreditPackage]
        /// Free credits granted to every new user.
        public var freeOnSignup: Int
        public var versionLimits: VersionLimits
        /// Wall-clock time for records and expiry.
        public var clock: any VectortClock

        public init(
            databasePath: String, maxBatch: Int = 512, packages: [CreditPackage] = CreditRules.defaultPackages,
            freeOnSignup: Int = 10, versionLimits: VersionLimits = VersionLimits(),
            clock: any VectortClock = SystemClock()
        ) {
            self.databasePath = databasePath
            self.maxBatch = maxBatch
            self.packages = packages
            self.freeOnSignup = freeOnSignup
            self.versionLimits = versionLimits
            self.clock = clock
        }
    }

    /// What start-up found left over from a previous process.
    public struct Recovery: Sendable, Equatable {
        /// Generations that were running, now recorded as failed (`interrupted`).
        public var interruptedGenerations: Int
        /// Credit holds released.
        public var releasedHolds: Int
        /// Monthly buckets whose credits expired.
        public var expiredBuckets: Int
    }

    public let users: Users
    public let projects: Projects
    public let versions: Versions
    public let ledger: Ledger
    public let generations: GenerationStore
    public let exporter: ZipExporter
    package let database: Database
    package let writer: LedgerWriter

    /// Opens (creating and migrating) the database and makes every service over it.
    public static func open(_ options: Options, logger: Logger) throws -> Engine {
        let database = try Database.open(path: options.databasePath, logger: logger)
        let writer = LedgerWriter(pool: database.pool, maxBatch: options.maxBatch)
        let clock = options.clock
        let now: @Sendable () -> Date = { clock.date }
        let versions = Versions(writer: writer, pool: database.pool, limits: options.versionLimits, now: now)
        return Engine(
            users: Users(writer: writer, pool: database.pool, freeOnSignup: options.freeOnSignup, now: now),
            projects: Projects(writer: writer, pool: database.pool, now: now),
            versions: versions,
            ledger: Ledger(writer: writer, pool: database.pool, packages: options.packages, now: now),
            generations: GenerationStore(writer: writer, pool: database.pool, now: now),
            exporter: ZipExporter(versions: versions),
            database: database, writer: writer)
    }

    /// Runs the writer until `stop()`; every request queued before then is answered.
    public func run() async {
        await writer.run()
    }

    /// Asks the writer to finish its queue and return from `run()`.
    public func stop() {
        writer.stop()
    }

    /// One round trip to the database, for health checks.
    public func ping() async throws {
        try await database.ping()
    }

    /// Settles what a previous process left: its running generations are failed and their holds,
    /// like every other open hold, released; monthly credits past their date expire.
    public func recover() async throws -> Recovery {
        let interrupted = try await generations.recoverInterrupted()
        let released = try await ledger.releaseStaleHolds()
        let expired = try await ledger.expireMonthly()
        return Recovery(interruptedGenerations: interrupted, releasedHolds: released, expiredBuckets: expired)
    }
}
