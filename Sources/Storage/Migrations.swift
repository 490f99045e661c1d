import Crypto
import Foundation
import GRDB
import VectortCore

/// The schema, as an ordered list of named migrations. A migration is never edited once it
/// has shipped; changes are new migrations.
enum Migrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("0001-meta") { db in
            try db.create(table: "meta") { t in
                t.primaryKey("key", .text)
                t.column("value", .text).notNull()
            }
            try db.execute(
                sql: "INSERT INTO meta(key, value) VALUES ('instance_id', ?), ('created_at', ?)",
                arguments: [UUID().uuidString.lowercased(), ISO8601DateFormatter().string(from: Date())])
        }
        migrator.registerMigration("0002-accounts-credits") { db in
            try db.execute(sql: accountsAndCredits)
        }
        migrator.registerMigration("0003-generations") { db in
            try db.execute(sql: generations)
        }
        // A user's held credits are summed for every balance the writer publishes; without it
        // the sum scans every open hold of every user.
        migrator.registerMigration("0004-open-holds-by-user") { db in
            try db.execute(sql: "CREATE INDEX credit_holds_open_by_user ON credit_holds(user_id) WHERE status = 'held'")
        }
        // Nothing references the rebuilt tables, so foreign keys can stay on: each copied row is
        // checked as it goes instead of a check of the whole database at the end.
        migrator.registerMigration("0005-ledger-checks-without-in-lists", foreignKeyChecks: .immediate) { db in
            try db.execute(sql: ledgerChecksWithoutInLists)
        }
        migrator.registerMigration("0006-builds") { db in
            try db.execute(sql: builds)
        }
        migrator.registerMigration("0007-content-addressed-version-files") { db in
            try contentAddressVersionFiles(db)
        }
        migrator.registerMigration("0008-generation-requested-provider") { db in
            // The provider a caller asked to start with; part of what an idempotency key is bound to.
            try db.execute(sql: "ALTER TABLE generations ADD COLUMN requested_provider TEXT")
        }
        migrator.registerMigration("0009-version-base") { db in
            // The version a version was made from (a restore's source, an edit's base).
            try db.execute(sql: "ALTER TABLE versions ADD COLUMN base_version TEXT")
        }
        migrator.registerMigration("0010-generation-edit-request") { db in
            // The base version as the caller named it and whether it asked for a fresh app (part of
            // what an idempotency key is bound to), and what the answer said outside its files.
            try db.execute(sql: """
                ALTER TABLE generations ADD COLUMN requested_base TEXT;
                ALTER TABLE generations ADD COLUMN fresh INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE generations ADD COLUMN notes TEXT;
                """)
        }
        migrator.registerMigration("0011-payments") { db in
            try db.execute(sql: payments)
        }
        migrator.registerMigration("0012-project-github") { db in
            // Where the project was last exported to on GitHub (JSON).
            try db.execute(sql: "ALTER TABLE projects ADD COLUMN github TEXT")
        }
        migrator.registerMigration("0013-deployments") { db in
            // Deploy jobs outlive their project (no cascade): they finish or are cancelled.
            try db.execute(sql: """
                CREATE TABLE deployments (
                    id TEXT PRIMARY KEY,
                    project_id TEXT NOT NULL,
                    user_id TEXT NOT NULL REFERENCES users(id),
                    version_id TEXT NOT NULL,
                    platform TEXT NOT NULL,
                    state TEXT NOT NULL CHECK (state = 'queued' OR state = 'exporting' OR state = 'uploading'
                        OR state = 'building' OR state = 'live' OR state = 'failed' OR state = 'cancelled'),
                    platform_id TEXT,
                    url TEXT,
                    reason TEXT,
                    settings TEXT NOT NULL,
                    idempotency_key TEXT,
                    created_at TEXT NOT NULL,
                    updated_at TEXT NOT NULL,
                    last_progress_at TEXT NOT NULL,
                    polls INTEGER NOT NULL,
                    next_step_at TEXT,
                    finished_at TEXT,
                    UNIQUE (user_id, idempotency_key)
                );
                CREATE INDEX deployments_due ON deployments(next_step_at)
                    WHERE state != 'live' AND state != 'failed' AND state != 'cancelled';
                CREATE INDEX deployments_by_project ON deployments(project_id, id);
                """)
        }
        migrator.registerMigration("0014-connected-accounts") { db in
            // Users' own platform tokens, sealed under the data key (never stored in clear).
            try db.execute(sql: """
                CREATE TABLE connected_accounts (
                    user_id TEXT NOT NULL REFERENCES users(id),
                    platform TEXT NOT NULL CHECK (platform = 'github' OR platform = 'vercel' OR platform = 'netlify'
                        OR platform = 'render'),
                    account TEXT NOT NULL,
                    sealed_token TEXT NOT NULL,
                    key_id TEXT NOT NULL,
                    connected_at TEXT NOT NULL,
                    checked_at TEXT NOT NULL,
                    PRIMARY KEY (user_id, platform)
                );
                CREATE INDEX connected_accounts_by_key ON connected_accounts(key_id);
                """)
        }
        migrator.registerMigration("0015-sessions") { db in
            // Web sessions are JWTs: nothing is stored per session but the ones revoked before
            // they expire (logout), and per user a time before which every session is void
            // (a password change or reset).
            try db.execute(sql: """
                CREATE TABLE revoked_sessions (
                    id TEXT PRIMARY KEY,
                    user_id TEXT NOT NULL REFERENCES users(id),
                    expires_at TEXT NOT NULL
                );
                CREATE INDEX revoked_sessions_by_expiry ON revoked_sessions(expires_at);
                ALTER TABLE users ADD COLUMN sessions_after TEXT;
                """)
        }
        migrator.registerMigration("0016-preview-tokens") { db in
            // A project's preview URL is a capability: 128 random bits, never its id; rotatable.
            try db.execute(sql: """
                ALTER TABLE projects ADD COLUMN preview_token TEXT;
                UPDATE projects SET preview_token = lower(hex(randomblob(16)));
                CREATE UNIQUE INDEX projects_by_preview_token ON projects(preview_token);
                """)
        }
        migrator.registerMigration("0017-account-tokens") { db in
            // Single-use links sent by mail (password reset, email verification): only their
            // SHA-256 is stored, so a copy of the database opens no account.
            try db.execute(sql: """
                CREATE TABLE account_tokens (
                    token_hash TEXT PRIMARY KEY,
                    user_id TEXT NOT NULL REFERENCES users(id),
                    purpose TEXT NOT NULL CHECK (purpose = 'reset' OR purpose = 'verify'),
                    expires_at TEXT NOT NULL,
                    used_at TEXT
                );
                CREATE INDEX account_tokens_by_expiry ON account_tokens(expires_at);
                ALTER TABLE users ADD COLUMN email_verified_at TEXT;
                """)
        }
        migrator.registerMigration("0018-oauth-identities") { db in
            // Sign-in identities by provider and the provider's stable subject, never by email.
            try db.execute(sql: """
                CREATE TABLE oauth_identities (
                    provider TEXT NOT NULL,
                    subject TEXT NOT NULL,
                    user_id TEXT NOT NULL REFERENCES users(id),
                    email TEXT,
                    created_at TEXT NOT NULL,
                    PRIMARY KEY (provider, subject)
                );
                CREATE INDEX oauth_identities_by_user ON oauth_identities(user_id);
                """)
        }
        migrator.registerMigration("0019-running-generations-by-user") { db in
            // The per-user limit of concurrent generations counts these at every start.
            try db.execute(sql: "CREATE INDEX generations_running_by_user ON generations(user_id) WHERE status = 'running'")
        }
        migrator.registerMigration("0020-generation-spend") { db in
            // What each provider call cost at the configured prices (millionths of the
            // currency's unit), and the cached part of its input; Usage.Summary reads them by time.
            try db.execute(sql: """
                ALTER TABLE generations ADD COLUMN cached_input_tokens INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE generations ADD COLUMN cost_micros INTEGER;
                ALTER TABLE generations ADD COLUMN cost_currency TEXT;
                ALTER TABLE generation_attempts ADD COLUMN cached_input_tokens INTEGER;
                ALTER TABLE generation_attempts ADD COLUMN cost_micros INTEGER;
                ALTER TABLE generation_attempts ADD COLUMN cost_currency TEXT;
                CREATE INDEX generations_by_started ON generations(started_at);
                """)
        }
        migrator.registerMigration("0021-idempotency-retention") { db in
            // Keys are kept for idempotency.retention_days, then pruned by their age.
            try db.execute(sql: "CREATE INDEX idempotency_by_created ON idempotency(created_at)")
        }
        return migrator
    }
}

/// Purchases through Stripe Checkout and every Stripe event received, each recorded with its
/// effect in one transaction. An event id is recorded once: a repeat changes nothing.
private let payments = """
    CREATE TABLE payments (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users(id),
        package TEXT NOT NULL,
        credits INTEGER NOT NULL CHECK (credits > 0),
        amount_minor INTEGER NOT NULL CHECK (amount_minor > 0),
        currency TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status = 'pending' OR status = 'paid' OR status = 'failed' OR status = 'expired'
            OR status = 'refunded' OR status = 'partially_refunded' OR status = 'disputed'),
        checkout_session TEXT UNIQUE,
        checkout_url TEXT,
        payment_intent TEXT,
        awaiting_payment INTEGER NOT NULL DEFAULT 0,
        idempotency_key TEXT,
        success_url TEXT NOT NULL,
        cancel_url TEXT NOT NULL,
        created_at TEXT NOT NULL,
        paid_at TEXT,
        expires_at TEXT NOT NULL,
        credits_granted INTEGER NOT NULL DEFAULT 0,
        credits_reversed INTEGER NOT NULL DEFAULT 0,
        amount_refunded INTEGER NOT NULL DEFAULT 0,
        dispute_reversed INTEGER,
        UNIQUE (user_id, idempotency_key)
    );
    CREATE INDEX payments_by_user ON payments(user_id, id);
    CREATE INDEX payments_by_intent ON payments(payment_intent);
    CREATE INDEX payments_pending ON payments(expires_at) WHERE status = 'pending';
    CREATE TABLE stripe_events (
        id TEXT PRIMARY KEY,
        type TEXT NOT NULL,
        created INTEGER NOT NULL,
        received_at TEXT NOT NULL,
        source TEXT NOT NULL,
        outcome TEXT NOT NULL,
        payment_id TEXT REFERENCES payments(id),
        payment_intent TEXT,
        fact TEXT NOT NULL,
        body BLOB NOT NULL
    );
    CREATE INDEX stripe_events_by_payment ON stripe_events(payment_id);
    CREATE INDEX stripe_events_unmatched ON stripe_events(payment_intent) WHERE outcome = 'unmatched';
    CREATE INDEX stripe_events_by_created ON stripe_events(created);
    """

/// Generation records and every provider call each one made. A generation claims its
/// idempotency key while it runs and keeps it only if it completes.
private let generations = """
    CREATE TABLE generations (
        id TEXT PRIMARY KEY,
        project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        user_id TEXT NOT NULL REFERENCES users(id),
        mode TEXT NOT NULL CHECK (mode IN ('quick', 'advanced')),
        prompt TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('running', 'completed', 'failed', 'cancelled')),
        idempotency_key TEXT,
        hold_id TEXT,
        credits_held INTEGER NOT NULL,
        credits_charged INTEGER NOT NULL DEFAULT 0,
        version_id TEXT,
        provider TEXT,
        model TEXT,
        input_tokens INTEGER NOT NULL DEFAULT 0,
        output_tokens INTEGER NOT NULL DEFAULT 0,
        error TEXT,
        error_message TEXT,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        duration_ms INTEGER,
        UNIQUE (user_id, idempotency_key)
    );
    CREATE INDEX generations_by_project ON generations(project_id, started_at);
    CREATE INDEX generations_running ON generations(status) WHERE status = 'running';
    CREATE TABLE generation_attempts (
        generation_id TEXT NOT NULL REFERENCES generations(id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        provider TEXT NOT NULL,
        model TEXT NOT NULL,
        purpose TEXT NOT NULL,
        outcome TEXT NOT NULL,
        error TEXT,
        status INTEGER,
        message TEXT,
        duration_ms INTEGER NOT NULL,
        input_tokens INTEGER,
        output_tokens INTEGER,
        started_at TEXT NOT NULL,
        PRIMARY KEY (generation_id, seq)
    );
    """

/// Users, projects, versions, and the credit journal. Journal entries are append-only: the
/// triggers refuse UPDATE and DELETE, so corrections can only be new entries.
private let accountsAndCredits = """
    CREATE TABLE users (
        id TEXT PRIMARY KEY,
        email TEXT NOT NULL,
        email_key TEXT NOT NULL UNIQUE,
        full_name TEXT,
        password_hash TEXT,
        status TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
        created_at TEXT NOT NULL
    );
    CREATE TABLE projects (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users(id),
        title TEXT NOT NULL,
        description TEXT,
        type TEXT,
        status TEXT NOT NULL CHECK (status IN ('draft', 'generating', 'completed', 'failed')),
        config TEXT NOT NULL,
        current_version TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX projects_by_user ON projects(user_id);
    CREATE TABLE versions (
        id TEXT PRIMARY KEY,
        project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        number INTEGER NOT NULL,
        generation TEXT,
        provider TEXT,
        model TEXT,
        files INTEGER NOT NULL,
        bytes INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        UNIQUE (project_id, number)
    );
    CREATE TABLE version_files (
        version_id TEXT NOT NULL REFERENCES versions(id) ON DELETE CASCADE,
        path TEXT NOT NULL,
        contents TEXT NOT NULL,
        PRIMARY KEY (version_id, path)
    ) WITHOUT ROWID;
    CREATE TABLE credit_entries (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        user_id TEXT NOT NULL REFERENCES users(id),
        bucket TEXT NOT NULL CHECK (bucket IN ('monthly', 'free', 'topup')),
        amount INTEGER NOT NULL CHECK (amount != 0),
        kind TEXT NOT NULL CHECK (kind IN ('grant', 'purchase', 'usage', 'hold', 'release', 'refund',
                                           'reversal', 'expiry', 'adjustment')),
        reference TEXT,
        idempotency_key TEXT UNIQUE,
        created_at TEXT NOT NULL
    );
    CREATE INDEX credit_entries_by_user ON credit_entries(user_id, id);
    CREATE TRIGGER credit_entries_append_only_update BEFORE UPDATE ON credit_entries
        BEGIN SELECT RAISE(ABORT, 'credit entries are append-only'); END;
    CREATE TRIGGER credit_entries_append_only_delete BEFORE DELETE ON credit_entries
        BEGIN SELECT RAISE(ABORT, 'credit entries are append-only'); END;
    CREATE TABLE credit_balances (
        user_id TEXT NOT NULL REFERENCES users(id),
        bucket TEXT NOT NULL CHECK (bucket IN ('monthly', 'free', 'topup')),
        balance INTEGER NOT NULL,
        expires_at TEXT,
        PRIMARY KEY (user_id, bucket)
    ) WITHOUT ROWID;
    CREATE TABLE credit_holds (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users(id),
        amount INTEGER NOT NULL CHECK (amount > 0),
        charged INTEGER,
        reference TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('held', 'settled', 'released')),
        from_monthly INTEGER NOT NULL,
        from_free INTEGER NOT NULL,
        from_topup INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        finished_at TEXT
    );
    CREATE INDEX credit_holds_open ON credit_holds(created_at) WHERE status = 'held';
    CREATE TABLE idempotency (
        scope TEXT NOT NULL,
        key TEXT NOT NULL,
        request TEXT NOT NULL,
        result TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (scope, key)
    ) WITHOUT ROWID;
    """

/// The ledger's tables again, with the same CHECK constraints written as comparisons. SQLite
/// (3.40 here) evaluates `x IN ('a', 'b', 'c')` with three or more constants by building a
/// temporary b-tree of the list, on every insert and on every update of the column: profiling
/// the ledger writer showed that in most of its entry inserts. An OR of comparisons is the same
/// constraint without it. `credit_entries` also drops AUTOINCREMENT: entries are never deleted
/// (its triggers refuse it), so SQLite's default, the largest id plus one, never reuses an id,
/// and the `sqlite_sequence` write per entry goes. Rebuilt the documented way: new table, copy,
/// drop, rename, then the indexes and triggers. Foreign keys are checked at the end.
private let ledgerChecksWithoutInLists = """
    DROP TRIGGER credit_entries_append_only_update;
    DROP TRIGGER credit_entries_append_only_delete;
    CREATE TABLE credit_entries_new (
        id INTEGER PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users(id),
        bucket TEXT NOT NULL CHECK (bucket = 'monthly' OR bucket = 'free' OR bucket = 'topup'),
        amount INTEGER NOT NULL CHECK (amount != 0),
        kind TEXT NOT NULL CHECK (kind = 'grant' OR kind = 'purchase' OR kind = 'usage' OR kind = 'hold'
            OR kind = 'release' OR kind = 'refund' OR kind = 'reversal' OR kind = 'expiry' OR kind = 'adjustment'),
        reference TEXT,
        idempotency_key TEXT UNIQUE,
        created_at TEXT NOT NULL
    );
    INSERT INTO credit_entries_new(id, user_id, bucket, amount, kind, reference, idempotency_key, created_at)
        SELECT id, user_id, bucket, amount, kind, reference, idempotency_key, created_at FROM credit_entries;
    DROP TABLE credit_entries;
    ALTER TABLE credit_entries_new RENAME TO credit_entries;
    CREATE INDEX credit_entries_by_user ON credit_entries(user_id, id);
    CREATE TRIGGER credit_entries_append_only_update BEFORE UPDATE ON credit_entries
        BEGIN SELECT RAISE(ABORT, 'credit entries are append-only'); END;
    CREATE TRIGGER credit_entries_append_only_delete BEFORE DELETE ON credit_entries
        BEGIN SELECT RAISE(ABORT, 'credit entries are append-only'); END;

    CREATE TABLE credit_balances_new (
        user_id TEXT NOT NULL REFERENCES users(id),
        bucket TEXT NOT NULL CHECK (bucket = 'monthly' OR bucket = 'free' OR bucket = 'topup'),
        balance INTEGER NOT NULL,
        expires_at TEXT,
        PRIMARY KEY (user_id, bucket)
    ) WITHOUT ROWID;
    INSERT INTO credit_balances_new(user_id, bucket, balance, expires_at)
        SELECT user_id, bucket, balance, expires_at FROM credit_balances;
    DROP TABLE credit_balances;
    ALTER TABLE credit_balances_new RENAME TO credit_balances;

    CREATE TABLE credit_holds_new (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users(id),
        amount INTEGER NOT NULL CHECK (amount > 0),
        charged INTEGER,
        reference TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status = 'held' OR status = 'settled' OR status = 'released'),
        from_monthly INTEGER NOT NULL,
        from_free INTEGER NOT NULL,
        from_topup INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        finished_at TEXT
    );
    INSERT INTO credit_holds_new(id, user_id, amount, charged, reference, status, from_monthly, from_free, from_topup,
        created_at, finished_at)
        SELECT id, user_id, amount, charged, reference, status, from_monthly, from_free, from_topup, created_at,
            finished_at FROM credit_holds;
    DROP TABLE credit_holds;
    ALTER TABLE credit_holds_new RENAME TO credit_holds;
    CREATE INDEX credit_holds_open ON credit_holds(created_at) WHERE status = 'held';
    CREATE INDEX credit_holds_open_by_user ON credit_holds(user_id) WHERE status = 'held';
    """

/// What building a version produced, immutable like the version. The built files' bytes are
/// stored once per content (`blobs`, by SHA-256): versions that build to the same bundle, or
/// copy the same public files, share them.
private let builds = """
    CREATE TABLE blobs (
        hash TEXT PRIMARY KEY,
        data BLOB NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE builds (
        version_id TEXT PRIMARY KEY REFERENCES versions(id) ON DELETE CASCADE,
        status TEXT NOT NULL CHECK (status IN ('ok', 'failed', 'skipped')),
        duration_ms INTEGER NOT NULL,
        errors TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE TABLE build_files (
        version_id TEXT NOT NULL REFERENCES builds(version_id) ON DELETE CASCADE,
        path TEXT NOT NULL,
        hash TEXT NOT NULL REFERENCES blobs(hash),
        bytes INTEGER NOT NULL,
        PRIMARY KEY (version_id, path)
    ) WITHOUT ROWID;
    CREATE INDEX build_files_by_hash ON build_files(hash);
    """

/// Version files move to content-addressed storage: each distinct content once in `blobs` (by
/// SHA-256), versions referencing it by path. No version's files change: the bytes are moved as
/// they are, only where they live changes.
private func contentAddressVersionFiles(_ db: GRDB.Database) throws {
    try db.execute(sql: """
        CREATE TABLE version_blobs (
            version_id TEXT NOT NULL REFERENCES versions(id) ON DELETE CASCADE,
            path TEXT NOT NULL,
            hash TEXT NOT NULL REFERENCES blobs(hash),
            bytes INTEGER NOT NULL,
            PRIMARY KEY (version_id, path)
        ) WITHOUT ROWID;
        """)
    let blob = try db.makeStatement(sql: "INSERT INTO blobs(hash, data) VALUES (?, ?) ON CONFLICT(hash) DO NOTHING")
    let file = try db.makeStatement(sql: "INSERT INTO version_blobs(version_id, path, hash, bytes) VALUES (?, ?, ?, ?)")
    let rows = try Row.fetchCursor(db, sql: "SELECT version_id, path, CAST(contents AS BLOB) FROM version_files")
    while let row = try rows.next() {
        let data: Data = row[2] ?? Data()
        let hash = ContentHash.of(data)
        try blob.execute(arguments: [hash, data])
        try file.execute(arguments: [row[0] as String, row[1] as String, hash, data.count])
    }
    try db.execute(sql: """
        DROP TABLE version_files;
        ALTER TABLE version_blobs RENAME TO version_files;
        CREATE INDEX version_files_by_hash ON version_files(hash);
        """)
}

/// The key of a content in `blobs`: its SHA-256, in lowercase hex.
enum ContentHash {
    static func of(_ bytes: some DataProtocol) -> String {
        TokenEncoding.hex(SHA256.hash(data: bytes))
    }
}
