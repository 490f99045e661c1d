public import AsyncHTTPClient
import Foundation
public import Build
public import Logging
public import Protocol
package import Storage
public import VectortCore
public import Observability

/// The engine over one storage backend: its services validate what they are asked and hand
/// each transaction to the backend's repositories. `Engine.open` is the one way to make it.
///
/// The backend's writes run in `run()` (a service's body in the daemon); until then they wait.
public struct Engine: Sendable {
    /// What the engine is opened with.
    public struct Options: Sendable {
        public var databasePath: String
        /// A `postgres://` URL: the PostgreSQL backend instead of the SQLite file (see `connect`).
        public var databaseURL: String?
        /// The PostgreSQL password (the `database-password` credential), if it needs one.
        public var databasePassword: String?
        /// This node's id among those sharing a PostgreSQL database (`node.id`).
        public var nodeID = Engine.defaultNodeID(stateDirectory: nil)
        /// How often this node writes its heartbeat (`node.heartbeat_seconds`).
        public var nodeHeartbeat: Duration = .seconds(5)
        /// A node whose heartbeat is older than this is dead (`node.timeout_seconds`).
        public var nodeTimeout: Duration = .seconds(30)
        /// How long a deploy job stays leased to its node without a new poll (`node.lease_seconds`).
        public var leaseDuration: Duration = .seconds(120)
        /// Most write requests committed in one transaction.
        public var maxBatch: Int
        public var packages: [CreditPackage]
        /// Free credits granted to every new user.
        public var freeOnSignup: Int
        public var versionLimits: VersionLimits
        /// Wall-clock time for records and expiry.
        public var clock: any VectortClock
        /// How versions are built; nil stores them without a build.
        public var build: BuildSettings?
        /// Metrics and domain events.
        public var observer: Observer

        public init(
            databasePath: String, maxBatch: Int = 512, packages: [CreditPackage] = CreditRules.defaultPackages,
            freeOnSignup: Int = 10, versionLimits: VersionLimits = VersionLimits(),
            clock: any VectortClock = SystemClock(), build: BuildSettings? = nil, observer: Observer = Observer()
        ) {
            self.observer = observer
            self.build = build
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
    public let observer: Observer
    /// This node's id (`node.id`); it names the node's leftovers and leases on PostgreSQL.
    public let nodeID: String
    package let storage: any StorageBackend

    /// Opens (creating and migrating) the SQLite database and makes every service over it.
    /// Fails with `SiteBuilder.Unavailable` when builds are on and esbuild is missing.
    public static func open(_ options: Options, logger: Logger) throws -> Engine {
        let builder = try makeBuilder(options)
        let storage = try SQLiteStorage.open(
            path: options.databasePath, maxBatch: options.maxBatch, metrics: options.observer.metrics, logger: logger)
        return Engine(storage: storage, options: options, builder: builder)
    }

    /// Opens the backend the options name: PostgreSQL when `databaseURL` is set (connecting and
    /// migrating it), else the SQLite file. Fails with `SiteBuilder.Unavailable` when builds are
    /// on and esbuild is missing.
    public static func connect(_ options: Options, logger: Logger) async throws -> Engine {
        guard let url = options.databaseURL, !url.isEmpty else { return try open(options, logger: logger) }
        let builder = try makeBuilder(options)
        let storage = try await PostgresStorage.open(
            try PostgresLocation(url: url), password: options.databasePassword, node: PostgresNode(id: options.nodeID, heartbeat: options.nodeHeartbeat, expiry: options.nodeTimeout),
            maxBatch: options.maxBatch, leaseDuration: options.leaseDuration, logger: logger)
        return Engine(storage: storage, options: options, builder: builder)
    }

    /// The default `node.id`: the host name, and the state directory when given (two daemons on
    /// one host have two).
    public static func defaultNodeID(stateDirectory: String?) -> String {
        let host = ProcessInfo.processInfo.hostName
        return stateDirectory.map { "\(host):\($0)" } ?? host
    }

    /// The site builder the options ask for, its scratch space swept of an earlier run's.
    private static func makeBuilder(_ options: Options) throws -> SiteBuilder? {
        let builder = try options.build.map { try SiteBuilder(settings: $0, metrics: options.observer.metrics) }
        builder?.sweepScratch()
        return builder
    }

    /// What is wrong with a `database.url`, if anything (a password in it, a missing user or
    /// database, an unknown parameter); nil when it names a PostgreSQL database.
    public static func databaseURLProblem(_ url: String) -> String? {
        do {
            _ = try PostgresLocation(url: url)
            return nil
        } catch {
            return "\(error)"
        }
    }

    /// Every service over `storage`, on the options' clock.
    package init(storage: any StorageBackend, options: Options, builder: SiteBuilder? = nil) {
        let clock = options.clock
        let now: @Sendable () -> Date = { clock.date }
        let versions = Versions(repository: storage.versions, limits: options.versionLimits, builder: builder, now: now)
        self.observer = options.observer
        self.users = Users(repository: storage.users, freeOnSignup: options.freeOnSignup, observer: options.observer, now: now)
        self.projects = Projects(repository: storage.projects, now: now)
        self.versions = versions
        self.ledger = Ledger(repository: storage.ledger, packages: options.packages, now: now)
        self.generations = GenerationStore(repository: storage.generations, now: now)
        self.exporter = ZipExporter(versions: versions)
        self.nodeID = options.nodeID
        self.storage = storage
    }

    /// Payments over this engine's storage, calling Stripe through `http`.
    public func payments(
        http: HTTPClient, settings: @escaping @Sendable () -> PaymentSettings, clock: any VectortClock = SystemClock(),
        logger: Logger
    ) -> Payments {
        Payments(
            repository: storage.payments, users: storage.users, http: http, settings: settings, now: { clock.date },
            observer: observer, logger: logger)
    }

    /// Deploy jobs over this engine's storage.
    public func deployments(
        http: HTTPClient, settings: @escaping @Sendable () -> DeploySettings, clock: any VectortClock = SystemClock(),
        logger: Logger, github: GitHubExporter? = nil, accounts: ConnectedAccounts? = nil
    ) -> Deployments {
        Deployments(
            repository: storage.deployments, projects: projects, versions: versions, http: http, settings: settings,
            clock: clock, observer: observer, logger: logger, github: github, accounts: accounts)
    }

    /// Users' connected platform accounts over this engine's storage, sealed under `keyring`'s
    /// first key; tokens are checked against the API bases `bases` gives by platform name.
    public func accounts(
        http: HTTPClient, keyring: @escaping @Sendable () -> DataKeyring,
        bases: @escaping @Sendable () -> [String: String], clock: any VectortClock = SystemClock(), logger: Logger
    ) -> ConnectedAccounts {
        ConnectedAccounts(
            repository: storage.accounts, users: users, http: http, keyring: keyring, bases: bases, now: { clock.date },
            logger: logger)
    }

    /// Runs the backend's writes until `stop()`; every request queued before then is answered.
    public func run() async {
        await storage.run()
    }

    /// Asks the backend to finish its queued writes and return from `run()`.
    public func stop() {
        storage.stop()
    }

    /// The storage backend, and on PostgreSQL this node and the live ones (no database read).
    public func storageDescription() -> ServiceInfo.Storage {
        storage.describe()
    }

    /// Whether other nodes may share the database (PostgreSQL).
    public var isShared: Bool { storage.describe().node != nil }

    /// Publishes this node's providers and breakers for the fleet's view (`Providers.List
    /// {all_nodes}` on any node); nothing on SQLite. Breakers stay per node: a node decides on
    /// the failures it saw itself.
    public func publishProviders(_ list: ProviderList) async throws {
        guard isShared else { return }
        let document = String(decoding: try JSONEncoder().encode(ProviderList(providers: list.providers, chain: list.chain)), as: UTF8.self)
        try await storage.publishProviders(document)
    }

    /// Every node's providers: this node's `current` list as it is now, the others' as they last
    /// published them (a node that never published, or whose document cannot be read, lists
    /// none). On SQLite, this node alone.
    public func fleetProviders(current: ProviderList) async throws -> [NodeProviders] {
        let mine = NodeProviders(node: nodeID, live: true, current: true, chain: current.chain, providers: current.providers)
        guard let published = try await storage.publishedProviders() else { return [mine] }
        var nodes = [mine]
        for entry in published where entry.node != nodeID {
            let list = entry.document.flatMap { try? JSONDecoder().decode(ProviderList.self, from: Data($0.utf8)) }
            nodes.append(
                NodeProviders(
                    node: entry.node, live: entry.live, current: false, publishedAt: entry.publishedAt.map(Timestamps.string),
                    chain: list?.chain ?? [], providers: list?.providers ?? []))
        }
        return nodes
    }

    /// One round trip to the database, for health checks.
    public func ping() async throws {
        try await storage.ping()
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
