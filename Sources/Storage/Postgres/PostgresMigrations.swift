import Foundation
import Logging
import PostgresNIO

/// The PostgreSQL schema, in order. Times are stored as the same RFC 3339 text the SQLite
/// backend writes (`Timestamps.string`), so both backends compare, sort and return them alike.
/// What differs from SQLite: journal ids come from an identity column, users are paged by an
/// identity column (`seq`, where SQLite uses its rowid), and the `credit_entries` append-only
/// rule is a trigger function.
enum PostgresMigrations {
    static let all: [(name: String, statements: [String])] = [
        (
            "0001-accounts-and-ledger",
            [
                """
                CREATE TABLE users (
                    id TEXT PRIMARY KEY,
                    seq BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
                    email TEXT NOT NULL,
                    email_key TEXT NOT NULL UNIQUE,
                    full_name TEXT,
                    password_hash TEXT,
                    status TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
                    created_at TEXT NOT NULL,
                    sessions_after TEXT,
                    email_verified_at TEXT
                )
                """,
                """
                CREATE TABLE credit_entries (
                    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    user_id TEXT NOT NULL REFERENCES users(id),
                    bucket TEXT NOT NULL CHECK (bucket IN ('monthly', 'free', 'topup')),
                    amount BIGINT NOT NULL CHECK (amount <> 0),
                    kind TEXT NOT NULL CHECK (kind IN ('grant', 'purchase', 'usage', 'hold', 'release', 'refund',
                                                       'reversal', 'expiry', 'adjustment')),
                    reference TEXT,
                    idempotency_key TEXT UNIQUE,
                    created_at TEXT NOT NULL
                )
                """,
                """
                CREATE INDEX credit_entries_by_user ON credit_entries(user_id, id)
                """,
                """
                CREATE FUNCTION credit_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN RAISE EXCEPTION 'credit entries are append-only'; END $$
                """,
                """
                CREATE TRIGGER credit_entries_append_only BEFORE UPDATE OR DELETE ON credit_entries
                    FOR EACH ROW EXECUTE FUNCTION credit_entries_append_only()
                """,
                """
                CREATE TABLE credit_balances (
                    user_id TEXT NOT NULL REFERENCES users(id),
                    bucket TEXT NOT NULL CHECK (bucket IN ('monthly', 'free', 'topup')),
                    balance BIGINT NOT NULL,
                    expires_at TEXT,
                    PRIMARY KEY (user_id, bucket)
                )
                """,
                """
                CREATE TABLE credit_holds (
                    id TEXT PRIMARY KEY,
                    user_id TEXT NOT NULL REFERENCES users(id),
                    amount BIGINT NOT NULL CHECK (amount > 0),
                    charged BIGINT,
                    reference TEXT NOT NULL,
                    status TEXT NOT NULL CHECK (status IN ('held', 'settled', 'released')),
                    from_monthly BIGINT NOT NULL,
                    from_free BIGINT NOT NULL,
                    from_topup BIGINT NOT NULL,
                    created_at TEXT NOT NULL,
                    finished_at TEXT
                )
                """,
                """
                CREATE INDEX credit_holds_open_by_user ON credit_holds(user_id) WHERE status = 'held'
                """,
                """
                CREATE INDEX credit_holds_open ON credit_holds(created_at) WHERE status = 'held'
                """,
                """
                CREATE TABLE idempotency (
                    scope TEXT NOT NULL,
                    key TEXT NOT NULL,
                    request TEXT NOT NULL,
                    result TEXT NOT NULL,
                    created_at TEXT NOT NULL,
                    PRIMARY KEY (scope, key)
                )
                """,
                """
                CREATE INDEX idempotency_by_age ON idempotency(created_at)
                """,
                """
                CREATE TABLE revoked_sessions (
                    id TEXT PRIMARY KEY,
                    user_id TEXT NOT NULL REFERENCES users(id),
                    expires_at TEXT NOT NULL
                )
                """,
                """
                CREATE INDEX revoked_sessions_by_expiry ON revoked_sessions(expires_at)
                """,
                """
                CREATE TABLE account_tokens (
                    token_hash TEXT PRIMARY KEY,
                    user_id TEXT NOT NULL REFERENCES users(id),
                    purpose TEXT NOT NULL CHECK (purpose IN ('reset', 'verify')),
                    expires_at TEXT NOT NULL,
                    used_at TEXT
                )
                """,
                """
                CREATE INDEX account_tokens_by_expiry ON account_tokens(expires_at)
                """,
                """
                CREATE TABLE oauth_identities (
                    provider TEXT NOT NULL,
                    subject TEXT NOT NULL,
                    user_id TEXT NOT NULL REFERENCES users(id),
                    email TEXT,
                    created_at TEXT NOT NULL,
                    PRIMARY KEY (provider, subject)
                )
                """,
                """
                CREATE INDEX oauth_identities_by_user ON oauth_identities(user_id)
                """,
                """
                CREATE TABLE connected_accounts (
                    user_id TEXT NOT NULL REFERENCES users(id),
                    platform TEXT NOT NULL CHECK (platform IN ('github', 'vercel', 'netlify', 'render')),
                    account TEXT NOT NULL,
                    sealed_token TEXT NOT NULL,
                    key_id TEXT NOT NULL,
                    connected_at TEXT NOT NULL,
                    checked_at TEXT NOT NULL,
                    PRIMARY KEY (user_id, platform)
                )
                """,
                """
                CREATE INDEX connected_accounts_by_key ON connected_accounts(key_id)
                """,
            ]
        ),
        (
            "0002-projects-versions-and-generations",
            [
                """
                CREATE TABLE projects (
                    id TEXT PRIMARY KEY,
                    seq BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
                    user_id TEXT NOT NULL REFERENCES users(id),
                    title TEXT NOT NULL,
                    description TEXT,
                    type TEXT,
                    status TEXT NOT NULL CHECK (status IN ('draft', 'generating', 'completed', 'failed')),
                    config TEXT NOT NULL,
                    current_version TEXT,
                    created_at TEXT NOT NULL,
                    updated_at TEXT NOT NULL,
                    github TEXT,
                    preview_token TEXT UNIQUE
                )
                """,
                """
                CREATE INDEX projects_by_user ON projects(user_id, seq)
                """,
                """
                CREATE TABLE versions (
                    id TEXT PRIMARY KEY,
                    project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
                    number INTEGER NOT NULL,
                    generation TEXT,
                    provider TEXT,
                    model TEXT,
                    files INTEGER NOT NULL,
                    bytes BIGINT NOT NULL,
                    created_at TEXT NOT NULL,
                    base_version TEXT,
                    UNIQUE (project_id, number)
                )
                """,
                """
                CREATE TABLE blobs (
                    hash TEXT PRIMARY KEY,
                    data BYTEA NOT NULL
                )
                """,
                """
                CREATE TABLE version_files (
                    version_id TEXT NOT NULL REFERENCES versions(id) ON DELETE CASCADE,
                    path TEXT NOT NULL,
                    hash TEXT NOT NULL REFERENCES blobs(hash),
                    bytes BIGINT NOT NULL,
                    PRIMARY KEY (version_id, path)
                )
                """,
                """
                CREATE INDEX version_files_by_hash ON version_files(hash)
                """,
                """
                CREATE TABLE builds (
                    version_id TEXT PRIMARY KEY REFERENCES versions(id) ON DELETE CASCADE,
                    status TEXT NOT NULL CHECK (status IN ('ok', 'failed', 'skipped')),
                    duration_ms BIGINT NOT NULL,
                    errors TEXT NOT NULL,
                    created_at TEXT NOT NULL
                )
                """,
                """
                CREATE TABLE build_files (
                    version_id TEXT NOT NULL REFERENCES builds(version_id) ON DELETE CASCADE,
                    path TEXT NOT NULL,
                    hash TEXT NOT NULL REFERENCES blobs(hash),
                    bytes BIGINT NOT NULL,
                    PRIMARY KEY (version_id, path)
                )
                """,
                """
                CREATE INDEX build_files_by_hash ON build_files(hash)
                """,
                """
                CREATE TABLE generations (
                    id TEXT PRIMARY KEY,
                    project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
                    user_id TEXT NOT NULL REFERENCES users(id),
                    mode TEXT NOT NULL CHECK (mode IN ('quick', 'advanced')),
                    prompt TEXT NOT NULL,
                    status TEXT NOT NULL CHECK (status IN ('running', 'completed', 'failed', 'cancelled')),
                    idempotency_key TEXT,
                    hold_id TEXT,
                    credits_held BIGINT NOT NULL,
                    credits_charged BIGINT NOT NULL DEFAULT 0,
                    version_id TEXT,
                    provider TEXT,
                    model TEXT,
                    input_tokens BIGINT NOT NULL DEFAULT 0,
                    output_tokens BIGINT NOT NULL DEFAULT 0,
                    cached_input_tokens BIGINT NOT NULL DEFAULT 0,
                    cost_micros BIGINT,
                    cost_currency TEXT,
                    error TEXT,
                    error_message TEXT,
                    started_at TEXT NOT NULL,
                    finished_at TEXT,
                    duration_ms BIGINT,
                    requested_provider TEXT,
                    requested_base TEXT,
                    fresh BOOLEAN NOT NULL DEFAULT false,
                    notes TEXT,
                    UNIQUE (user_id, idempotency_key)
                )
                """,
                """
                CREATE INDEX generations_by_project ON generations(project_id, started_at)
                """,
                """
                CREATE INDEX generations_running_by_user ON generations(user_id) WHERE status = 'running'
                """,
                """
                CREATE INDEX generations_by_started ON generations(started_at)
                """,
                """
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
                    duration_ms BIGINT NOT NULL,
                    input_tokens BIGINT,
                    output_tokens BIGINT,
                    cached_input_tokens BIGINT,
                    cost_micros BIGINT,
                    cost_currency TEXT,
                    started_at TEXT NOT NULL,
                    PRIMARY KEY (generation_id, seq)
                )
                """,
            ]
        ),
        (
            "0003-deployments",
            [
                """
                CREATE TABLE deployments (
                    id TEXT PRIMARY KEY,
                    project_id TEXT NOT NULL,
                    user_id TEXT NOT NULL REFERENCES users(id),
                    version_id TEXT NOT NULL,
                    platform TEXT NOT NULL,
                    state TEXT NOT NULL CHECK (state IN ('queued', 'exporting', 'uploading', 'building', 'live', 'failed',
                        'cancelled')),
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
                )
                """,
                """
                CREATE INDEX deployments_due ON deployments(next_step_at) WHERE state NOT IN ('live', 'failed', 'cancelled')
                """,
                """
                CREATE INDEX deployments_by_project ON deployments(project_id, id)
                """,
            ]
        ),
        (
            "0004-payments",
            [
                """
                CREATE TABLE payments (
                    id TEXT PRIMARY KEY,
                    user_id TEXT NOT NULL REFERENCES users(id),
                    package TEXT NOT NULL,
                    credits BIGINT NOT NULL CHECK (credits > 0),
                    amount_minor BIGINT NOT NULL CHECK (amount_minor > 0),
                    currency TEXT NOT NULL,
                    status TEXT NOT NULL CHECK (status IN ('pending', 'paid', 'failed', 'expired', 'refunded',
                        'partially_refunded', 'disputed')),
                    checkout_session TEXT UNIQUE,
                    checkout_url TEXT,
                    payment_intent TEXT,
                    awaiting_payment BOOLEAN NOT NULL DEFAULT false,
                    idempotency_key TEXT,
                    success_url TEXT NOT NULL,
                    cancel_url TEXT NOT NULL,
                    created_at TEXT NOT NULL,
                    paid_at TEXT,
                    expires_at TEXT NOT NULL,
                    credits_granted BIGINT NOT NULL DEFAULT 0,
                    credits_reversed BIGINT NOT NULL DEFAULT 0,
                    amount_refunded BIGINT NOT NULL DEFAULT 0,
                    dispute_reversed BIGINT,
                    UNIQUE (user_id, idempotency_key)
                )
                """,
                """
                CREATE INDEX payments_by_user ON payments(user_id, id)
                """,
                """
                CREATE INDEX payments_by_intent ON payments(payment_intent)
                """,
                """
                CREATE INDEX payments_pending ON payments(expires_at) WHERE status = 'pending'
                """,
                """
                CREATE TABLE stripe_events (
                    id TEXT PRIMARY KEY,
                    type TEXT NOT NULL,
                    created BIGINT NOT NULL,
                    received_at TEXT NOT NULL,
                    source TEXT NOT NULL,
                    outcome TEXT NOT NULL,
                    payment_id TEXT REFERENCES payments(id),
                    payment_intent TEXT,
                    fact TEXT NOT NULL,
                    body BYTEA NOT NULL
                )
                """,
                """
                CREATE INDEX stripe_events_by_payment ON stripe_events(payment_id)
                """,
                """
                CREATE INDEX stripe_events_unmatched ON stripe_events(payment_intent) WHERE outcome = 'unmatched'
                """,
                """
                CREATE INDEX stripe_events_by_created ON stripe_events(created)
                """,
            ]
        ),
        (
            "0005-nodes",
            [
                """
                CREATE TABLE nodes (
                    id TEXT PRIMARY KEY,
                    started_at TEXT NOT NULL,
                    heartbeat_at TIMESTAMPTZ NOT NULL
                )
                """,
                """
                ALTER TABLE credit_holds ADD COLUMN node TEXT
                """,
                """
                ALTER TABLE generations ADD COLUMN node TEXT
                """,
                """
                CREATE INDEX credit_holds_open_by_node ON credit_holds(node) WHERE status = 'held'
                """,
                """
                CREATE INDEX generations_running_by_node ON generations(node) WHERE status = 'running'
                """,
            ]
        ),
        (
            "0006-leases",
            [
                """
                ALTER TABLE deployments ADD COLUMN lease_node TEXT
                """,
                """
                ALTER TABLE deployments ADD COLUMN lease_until TIMESTAMPTZ
                """,
                """
                ALTER TABLE deployments ADD COLUMN lease_token BIGINT NOT NULL DEFAULT 0
                """,
                """
                CREATE TABLE leases (
                    name TEXT PRIMARY KEY,
                    node TEXT NOT NULL,
                    until TIMESTAMPTZ NOT NULL
                )
                """,
            ]
        ),
        (
            "0007-node-providers",
            [
                """
                ALTER TABLE nodes ADD COLUMN providers TEXT
                """,
                """
                ALTER TABLE nodes ADD COLUMN providers_at TIMESTAMPTZ
                """,
            ]
        ),
        (
            // Generation ids are random: a project's generations started in the same
            // millisecond are listed by the order they were stored in. A plain column and a
            // sequence default for new rows: no table rewrite, no long lock on a live fleet
            // (rows from before have no `seq` and are listed after, by id).
            "0008-generation-order",
            [
                """
                ALTER TABLE generations ADD COLUMN seq BIGINT
                """,
                """
                CREATE SEQUENCE generations_seq AS BIGINT OWNED BY generations.seq
                """,
                """
                ALTER TABLE generations ALTER COLUMN seq SET DEFAULT nextval('generations_seq')
                """,
            ]
        ),
        (
            // Each node's own timeout: whether a node is dead is judged by what it promised
            // (its heartbeat setting), not by the judging node's setting.
            "0009-node-timeout",
            [
                """
                ALTER TABLE nodes ADD COLUMN timeout_seconds DOUBLE PRECISION
                """,
            ]
        ),
    ]

    /// A fixed key for `pg_advisory_lock`: one node migrates at a time.
    static let lockKey: Int64 = 0x7665_6374_6f72_7464  // "vectortd"

    static func migrate(_ database: PostgresDatabase) async throws {
        let logger = database.logger
        try await database.client.withConnection { connection in
            _ = try await connection.query("SELECT pg_advisory_lock(\(lockKey))", logger: logger).collect()
            do {
                try await applyPending(connection, logger: logger)
            } catch {
                _ = try? await connection.query("SELECT pg_advisory_unlock(\(lockKey))", logger: logger).collect()
                throw error
            }
            _ = try await connection.query("SELECT pg_advisory_unlock(\(lockKey))", logger: logger).collect()
        }
    }

    private static func applyPending(_ connection: PostgresConnection, logger: Logger) async throws {
        _ = try await connection.query(
            "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
            logger: logger
        ).collect()
        var applied = Set<String>()
        for try await name in try await connection.query("SELECT name FROM schema_migrations", logger: logger).decode(String.self) {
            applied.insert(name)
        }
        for migration in all where !applied.contains(migration.name) {
            try await connection.withTransaction(logger: logger) { connection in
                // One statement a query: the extended protocol takes no more.
                for statement in migration.statements {
                    _ = try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger).collect()
                }
                _ = try await connection.query(
                    "INSERT INTO schema_migrations(name) VALUES (\(migration.name))", logger: logger
                ).collect()
            }
            logger.info("applied PostgreSQL migration", metadata: ["migration": "\(migration.name)"])
        }
    }
}
