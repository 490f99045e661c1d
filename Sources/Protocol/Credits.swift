/// Money as PROTOCOL.md writes it.
public struct Money: Sendable, Codable, Hashable {
    public var amountMinor: Int
    public var currency: String

    public init(amountMinor: Int, currency: String) {
        self.amountMinor = amountMinor
        self.currency = currency
    }

    enum CodingKeys: String, CodingKey {
        case currency
        case amountMinor = "amount_minor"
    }
}

/// Where credits sit. Spending takes the soonest-expiring first: monthly, free, topup.
public enum CreditBucket: String, Sendable, Codable, Hashable, CaseIterable {
    case monthly, free, topup
}

/// Result of `Credits.GetBalance`: spendable credits per bucket and in total; `held` is reserved
/// by running generations and already excluded.
public struct CreditBalance: Sendable, Codable, Hashable {
    public var user: String
    public var total: Int
    public var buckets: [String: Int]
    public var held: Int
    public var monthlyExpiresAt: String?

    public init(user: String, total: Int, buckets: [String: Int], held: Int, monthlyExpiresAt: String?) {
        self.user = user
        self.total = total
        self.buckets = buckets
        self.held = held
        self.monthlyExpiresAt = monthlyExpiresAt
    }

    enum CodingKeys: String, CodingKey {
        case user, total, buckets, held
        case monthlyExpiresAt = "monthly_expires_at"
    }
}

public struct CreditPackage: Sendable, Codable, Hashable {
    public var id: String
    public var credits: Int
    public var price: Money

    public init(id: String, credits: Int, price: Money) {
        self.id = id
        self.credits = credits
        self.price = price
    }
}

public struct CreditPackageList: Sendable, Codable, Hashable {
    public var packages: [CreditPackage]

    public init(packages: [CreditPackage]) { self.packages = packages }
}

/// One entry of the append-only credit journal.
public struct CreditEntry: Sendable, Codable, Hashable {
    public var id: Int64
    public var user: String
    public var bucket: CreditBucket
    public var amount: Int
    /// grant, purchase, usage, hold, release, refund, reversal, expiry, adjustment
    public var kind: String
    public var reference: String?
    public var createdAt: String

    public init(
        id: Int64, user: String, bucket: CreditBucket, amount: Int, kind: String, reference: String?, createdAt: String
    ) {
        self.id = id
        self.user = user
        self.bucket = bucket
        self.amount = amount
        self.kind = kind
        self.reference = reference
        self.createdAt = createdAt
    }

    enum CodingKeys: String, CodingKey {
        case id, user, bucket, amount, kind, reference
        case createdAt = "created_at"
    }
}

/// Result of `Credits.History`: newest first; pass `next_after` as `after` for older entries.
public struct CreditHistory: Sendable, Codable, Hashable {
    public var user: String
    public var entries: [CreditEntry]
    public var nextAfter: String?

    public init(user: String, entries: [CreditEntry], nextAfter: String?) {
        self.user = user
        self.entries = entries
        self.nextAfter = nextAfter
    }

    enum CodingKeys: String, CodingKey {
        case user, entries
        case nextAfter = "next_after"
    }
}

/// Result of `Credits.Grant`.
public struct CreditGrant: Sendable, Codable, Hashable {
    public var entry: Int64
    public var balance: CreditBalance

    public init(entry: Int64, balance: CreditBalance) {
        self.entry = entry
        self.balance = balance
    }
}

/// A reservation of credits (`Credits.Hold`), later settled into usage or released.
public struct CreditHold: Sendable, Codable, Hashable {
    public enum Status: String, Sendable, Codable, Hashable {
        case held, settled, released
    }

    public var id: String
    public var user: String
    public var amount: Int
    /// What was charged when settled.
    public var charged: Int?
    public var reference: String
    public var status: Status
    /// Bucket → credits taken from it.
    public var allocations: [String: Int]
    public var createdAt: String

    public init(
        id: String, user: String, amount: Int, charged: Int?, reference: String, status: Status,
        allocations: [String: Int], createdAt: String
    ) {
        self.id = id
        self.user = user
        self.amount = amount
        self.charged = charged
        self.reference = reference
        self.status = status
        self.allocations = allocations
        self.createdAt = createdAt
    }

    enum CodingKeys: String, CodingKey {
        case id, user, amount, charged, reference, status, allocations
        case createdAt = "created_at"
    }
}

/// Result of `Credits.Verify`: every cached balance recomputed from the journal.
public struct CreditVerification: Sendable, Codable, Hashable {
    public struct Mismatch: Sendable, Codable, Hashable {
        public var user: String
        public var bucket: String
        public var cached: Int
        public var computed: Int

        public init(user: String, bucket: String, cached: Int, computed: Int) {
            self.user = user
            self.bucket = bucket
            self.cached = cached
            self.computed = computed
        }
    }

    public var ok: Bool
    public var balancesChecked: Int
    public var entriesChecked: Int
    public var mismatches: [Mismatch]

    public init(balancesChecked: Int, entriesChecked: Int, mismatches: [Mismatch]) {
        self.ok = mismatches.isEmpty
        self.balancesChecked = balancesChecked
        self.entriesChecked = entriesChecked
        self.mismatches = mismatches
    }

    enum CodingKeys: String, CodingKey {
        case ok, mismatches
        case balancesChecked = "balances_checked"
        case entriesChecked = "entries_checked"
    }
}
