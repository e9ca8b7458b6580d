import Foundation
import GRDB
import Logging

/// rekey's store: one SQLite file (WAL, foreign keys, `secure_delete`), migrated on open.
///
/// The schema holds the invariants: secrets can only be stored sealed, the audit log is append-only,
/// and every installation belongs to a known integration. Methods are named after what they do.
public final class AppDatabase: Sendable {
    /// The connection pool: only RekeyKit's intent-named methods touch it (tests reach it with `@testable import`).
    let writer: DatabasePool
    let logger: Logger

    /// Opens (creating if needed) the store at `path` and runs pending migrations. A new store file is
    /// created readable by its owner only (SQLite gives its -wal and -shm files the same mode).
    public init(path: String, logger: Logger) throws {
        // Before touching the disk: a system SQLite too old for the migrations is named, and no file is left.
        let version = try DatabaseQueue().read { try String.fetchOne($0, sql: "SELECT sqlite_version()") } ?? "unknown"
        guard Self.supportsSchema(sqliteVersion: version) else { throw SQLiteTooOld(version: version) }
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)  // fails harmlessly if it exists
        if fd >= 0 { close(fd) }
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            // Deleted content is overwritten with zeros, so a purged password leaves no bytes behind.
            try db.execute(sql: "PRAGMA secure_delete = ON")
        }
        // Opening writes (WAL set-up, migrations): beside another process's long write, it waits its turn.
        let writer = try Self.waitingWhenBusy(logger: logger) {
            let writer = try DatabasePool(path: path, configuration: configuration)
            try Self.migrator.migrate(writer)
            return writer
        }
        self.writer = writer
        self.logger = logger
    }

    /// How long a write waits for another process's write transaction, beyond SQLite's busy timeout, before failing.
    static let busyPatience: Duration = .seconds(300)

    /// A write transaction that waits out a busy store: when another process holds the write lock past SQLite's
    /// busy timeout, the transaction (rolled back whole) is tried again, for up to `busyPatience`. A sender then
    /// pauses beside a long import instead of dying with "database is locked".
    func write<T: Sendable>(_ updates: @Sendable (Database) throws -> T) async throws -> T {
        let deadline = ContinuousClock.now + Self.busyPatience
        var waited = false
        while true {
            do {
                return try await writer.write(updates)
            } catch let error as DatabaseError where Self.isBusy(error, before: deadline) {
                if !waited { Self.warnBusy(logger) }
                waited = true
                try await Task.sleep(for: .milliseconds(250))
            }
        }
    }

    /// `body` (which writes), tried again while the store is busy, for up to `busyPatience`; for synchronous callers.
    static func waitingWhenBusy<T>(logger: Logger, _ body: () throws -> T) throws -> T {
        let deadline = ContinuousClock.now + busyPatience
        var waited = false
        while true {
            do {
                return try body()
            } catch let error as DatabaseError where isBusy(error, before: deadline) {
                if !waited { warnBusy(logger) }
                waited = true
                usleep(250_000)
            }
        }
    }

    private static func isBusy(_ error: DatabaseError, before deadline: ContinuousClock.Instant) -> Bool {
        error.resultCode == .SQLITE_BUSY && ContinuousClock.now < deadline
    }

    private static func warnBusy(_ logger: Logger) {
        logger.warning("the store is busy: another rekey process holds its write lock; waiting for it")
    }

    /// The oldest SQLite the migrations run on (v5 uses `ALTER TABLE … DROP COLUMN`).
    public static let minimumSQLite = "3.35.0"

    /// Whether SQLite `version` (as `sqlite_version()` gives it) runs the migrations.
    public static func supportsSchema(sqliteVersion version: String) -> Bool {
        version.compare(minimumSQLite, options: .numeric) != .orderedAscending
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1 registry, installations, sealed secrets, audit log") { db in
            try db.execute(sql: """
                CREATE TABLE partner (
                    id TEXT PRIMARY KEY NOT NULL,
                    name TEXT NOT NULL,
                    security_email TEXT
                );
                CREATE TABLE integration (
                    id TEXT PRIMARY KEY NOT NULL,
                    partner_id TEXT NOT NULL REFERENCES partner(id),
                    name TEXT NOT NULL,
                    auth TEXT NOT NULL CHECK (auth IN ('password', 'api_token', 'oauth1', 'oauth2', 'none')),
                    storage TEXT NOT NULL CHECK (storage IN ('plaintext', 'encrypted', 'none'))
                );
                CREATE TABLE installation (
                    id TEXT PRIMARY KEY NOT NULL,
                    integration_id TEXT NOT NULL REFERENCES integration(id),
                    customer TEXT NOT NULL CHECK (length(customer) > 0),
                    config TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(config)),
                    state TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'migrated', 'needs_reconnect')),
                    imported_at TEXT NOT NULL,
                    updated_at TEXT NOT NULL,
                    UNIQUE (integration_id, customer)
                );
                CREATE TABLE installation_contact (
                    installation_id TEXT NOT NULL REFERENCES installation(id) ON DELETE CASCADE,
                    email TEXT NOT NULL CHECK (email LIKE '%_@_%'),
                    PRIMARY KEY (installation_id, email)
                ) WITHOUT ROWID;
                CREATE TABLE installation_secret (
                    installation_id TEXT NOT NULL REFERENCES installation(id) ON DELETE CASCADE,
                    field TEXT NOT NULL,
                    kind TEXT NOT NULL CHECK (kind IN ('password', 'api_token', 'oauth_token', 'oauth_secret')),
                    key_version INTEGER NOT NULL CHECK (key_version > 0),
                    sealed TEXT NOT NULL CHECK (sealed LIKE 'enc:v1:' || key_version || ':%'),
                    PRIMARY KEY (installation_id, field)
                );
                CREATE INDEX installation_secret_key_version ON installation_secret(key_version);
                CREATE TABLE audit_log (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    at TEXT NOT NULL,
                    action TEXT NOT NULL,
                    subject TEXT NOT NULL,
                    detail TEXT NOT NULL CHECK (json_valid(detail)),
                    prev_hash TEXT NOT NULL,
                    hash TEXT NOT NULL UNIQUE
                );
                CREATE TRIGGER audit_log_append_only_update BEFORE UPDATE ON audit_log
                BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
                CREATE TRIGGER audit_log_append_only_delete BEFORE DELETE ON audit_log
                BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
                """)
        }
        migrator.registerMigration("v2 campaigns and tracked deliveries") { db in
            try db.execute(sql: """
                CREATE TABLE campaign (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    name TEXT NOT NULL,
                    template TEXT NOT NULL,
                    audience TEXT NOT NULL,
                    state TEXT NOT NULL DEFAULT 'draft'
                        CHECK (state IN ('draft', 'sending', 'paused', 'finished', 'cancelled')),
                    recipients INTEGER NOT NULL DEFAULT 0 CHECK (recipients >= 0),
                    created_at TEXT NOT NULL,
                    updated_at TEXT NOT NULL,
                    started_at TEXT,
                    finished_at TEXT
                );
                CREATE TABLE recipient (
                    id INTEGER PRIMARY KEY,
                    campaign_id INTEGER NOT NULL REFERENCES campaign(id) ON DELETE CASCADE,
                    email TEXT NOT NULL COLLATE NOCASE,
                    name TEXT,
                    variables TEXT NOT NULL CHECK (json_valid(variables)),
                    source TEXT NOT NULL,
                    message_id TEXT NOT NULL UNIQUE,
                    state TEXT NOT NULL DEFAULT 'queued'
                        CHECK (state IN ('queued', 'sending', 'sent', 'deferred', 'failed', 'unknown')),
                    attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
                    next_attempt_at REAL,
                    last_code INTEGER,
                    last_enhanced TEXT,
                    last_text TEXT,
                    sent_at TEXT,
                    updated_at TEXT,
                    UNIQUE (campaign_id, email),
                    CHECK (state != 'deferred' OR next_attempt_at IS NOT NULL),
                    CHECK (state != 'sent' OR sent_at IS NOT NULL)
                );
                CREATE INDEX recipient_work ON recipient(campaign_id, state, next_attempt_at);
                """)
        }
        migrator.registerMigration("v3 partner webhooks") { db in
            try db.execute(sql: """
                CREATE TABLE webhook_endpoint (
                    partner_id TEXT PRIMARY KEY NOT NULL REFERENCES partner(id),
                    url TEXT NOT NULL,
                    events TEXT NOT NULL CHECK (json_valid(events)),
                    rate REAL CHECK (rate IS NULL OR rate > 0),
                    state TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'disabled')),
                    disabled_reason TEXT,
                    disabled_at TEXT,
                    failing_since REAL,
                    last_success_at TEXT,
                    updated_at TEXT NOT NULL,
                    CHECK (state = 'active' OR disabled_reason IS NOT NULL)
                );
                CREATE TABLE webhook_secret (
                    partner_id TEXT NOT NULL REFERENCES webhook_endpoint(partner_id) ON DELETE CASCADE,
                    version INTEGER NOT NULL CHECK (version > 0),
                    key_version INTEGER NOT NULL CHECK (key_version > 0),
                    sealed TEXT NOT NULL CHECK (sealed LIKE 'enc:v1:' || key_version || ':%'),
                    source TEXT NOT NULL,
                    created_at TEXT NOT NULL,
                    expires_at REAL,
                    PRIMARY KEY (partner_id, version)
                );
                CREATE TABLE webhook_message (
                    id TEXT PRIMARY KEY NOT NULL CHECK (id LIKE 'msg_%'),
                    partner_id TEXT NOT NULL REFERENCES webhook_endpoint(partner_id),
                    event TEXT NOT NULL,
                    body BLOB NOT NULL,
                    idempotency_key TEXT,
                    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivering', 'delivered', 'failed')),
                    attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
                    next_attempt_at REAL,
                    created_at TEXT NOT NULL,
                    delivered_at TEXT,
                    last_status INTEGER,
                    last_error TEXT,
                    UNIQUE (partner_id, idempotency_key),
                    CHECK (state != 'pending' OR next_attempt_at IS NOT NULL)
                );
                CREATE INDEX webhook_message_due ON webhook_message(state, next_attempt_at);
                CREATE TABLE webhook_attempt (
                    id INTEGER PRIMARY KEY,
                    message_id TEXT NOT NULL REFERENCES webhook_message(id) ON DELETE CASCADE,
                    attempted_at TEXT NOT NULL,
                    status INTEGER,
                    latency_ms REAL,
                    response_excerpt TEXT,
                    error TEXT
                );
                CREATE INDEX webhook_attempt_message ON webhook_attempt(message_id);
                """)
        }
        migrator.registerMigration("v4 OAuth grants") { db in
            try db.execute(sql: """
                CREATE TABLE oauth_grant (
                    installation_id TEXT PRIMARY KEY NOT NULL REFERENCES installation(id) ON DELETE CASCADE,
                    protocol TEXT NOT NULL CHECK (protocol IN ('oauth1', 'oauth2')),
                    scope TEXT,
                    site_id TEXT,
                    site_url TEXT,
                    expires_at REAL,
                    generation INTEGER NOT NULL DEFAULT 1 CHECK (generation > 0),
                    refreshed_at TEXT,
                    refresh_failures INTEGER NOT NULL DEFAULT 0 CHECK (refresh_failures >= 0),
                    last_refresh_error TEXT,
                    refresh_lease_until REAL,
                    created_at TEXT NOT NULL
                );
                """)
        }
        migrator.registerMigration("v5 webhook due index holds only open work; last success derived") { db in
            // Delivered and failed messages leave the due index (one index write fewer per delivery, and the
            // index stays the size of the open work). The endpoint's last success is the newest delivered_at
            // of its messages, so a delivery no longer writes the endpoint row. (The dropped column is not carried
            // over: a store's older successes show through delivered_at, which a later failure used to clear.)
            try db.execute(sql: """
                DROP INDEX webhook_message_due;
                CREATE INDEX webhook_message_due ON webhook_message(state, next_attempt_at)
                    WHERE state = 'pending' OR state = 'delivering';
                ALTER TABLE webhook_endpoint DROP COLUMN last_success_at;
                """)
        }
        migrator.registerMigration("v6 key check values: sealing only under a recorded, unpruned key") { db in
            // One row per key version the store has seen: a MAC of a constant under that key. A ring whose key
            // differs is refused, and once a version is pruned nothing can be sealed under it again.
            try db.execute(sql: """
                CREATE TABLE key_check (
                    version INTEGER PRIMARY KEY NOT NULL CHECK (version > 0),
                    check_value TEXT NOT NULL CHECK (length(check_value) = 64),
                    recorded_at TEXT NOT NULL,
                    pruned_at TEXT
                );
                CREATE TRIGGER key_check_value_fixed BEFORE UPDATE OF version, check_value ON key_check
                BEGIN SELECT RAISE(ABORT, 'rekey: a key check value never changes'); END;
                CREATE TRIGGER key_check_kept BEFORE DELETE ON key_check
                BEGIN SELECT RAISE(ABORT, 'rekey: key check values are kept'); END;
                CREATE TRIGGER key_check_prune_only_unused BEFORE UPDATE OF pruned_at ON key_check
                WHEN OLD.pruned_at IS NOT NULL
                    OR EXISTS (SELECT 1 FROM installation_secret WHERE key_version = OLD.version)
                    OR EXISTS (SELECT 1 FROM webhook_secret WHERE key_version = OLD.version)
                BEGIN SELECT RAISE(ABORT, 'rekey: a key version that seals values cannot be pruned'); END;
                """)
            for table in ["installation_secret", "webhook_secret"] {
                for (event, suffix) in [("INSERT", "insert"), ("UPDATE OF key_version, sealed", "update")] {
                    try db.execute(sql: """
                        CREATE TRIGGER \(table)_live_key_\(suffix) BEFORE \(event) ON \(table)
                        WHEN NOT EXISTS (SELECT 1 FROM key_check WHERE version = NEW.key_version AND pruned_at IS NULL)
                        BEGIN SELECT RAISE(ABORT, 'rekey: values are sealed only under a recorded, unpruned key version'); END;
                        """)
                }
            }
        }
        migrator.registerMigration("v7 campaign runs hold a lease and record where they send") { db in
            try db.execute(sql: """
                ALTER TABLE campaign ADD COLUMN destination TEXT;
                ALTER TABLE campaign ADD COLUMN lease_owner TEXT;
                ALTER TABLE campaign ADD COLUMN lease_until REAL CHECK (lease_until IS NULL OR lease_owner IS NOT NULL);
                """)
        }
        migrator.registerMigration("v8 incidents: their stages, and the campaigns and webhook messages they created") { db in
            // One open incident per title: `incident open TITLE` run again finds it and resumes. A campaign belongs to at
            // most one incident stage and a stage drafts at most one campaign, so a resumed run never drafts twice;
            // webhook messages are made once by their idempotency key and carry the incident they alert about.
            try db.execute(sql: """
                CREATE TABLE incident (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    title TEXT NOT NULL CHECK (length(trim(title)) > 0),
                    state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'resolved')),
                    integrations TEXT NOT NULL CHECK (json_valid(integrations) AND json_type(integrations) = 'array'),
                    email_template TEXT NOT NULL,
                    partner_template TEXT NOT NULL,
                    event TEXT NOT NULL,
                    variables TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(variables) AND json_type(variables) = 'object'),
                    opened_at TEXT NOT NULL,
                    resolved_at TEXT,
                    CHECK ((state = 'resolved') = (resolved_at IS NOT NULL))
                );
                CREATE UNIQUE INDEX incident_open_title ON incident(title) WHERE state = 'open';
                CREATE TABLE incident_stage (
                    incident_id INTEGER NOT NULL REFERENCES incident(id) ON DELETE CASCADE,
                    stage TEXT NOT NULL CHECK (stage IN ('audit', 'customers', 'partners', 'send', 'resolve')),
                    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'started', 'done')),
                    started_at TEXT,
                    finished_at TEXT,
                    counts TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(counts) AND json_type(counts) = 'object'),
                    PRIMARY KEY (incident_id, stage),
                    CHECK (state = 'pending' OR started_at IS NOT NULL),
                    CHECK ((state = 'done') = (finished_at IS NOT NULL))
                ) WITHOUT ROWID;
                ALTER TABLE campaign ADD COLUMN incident_id INTEGER REFERENCES incident(id);
                ALTER TABLE campaign ADD COLUMN incident_stage TEXT
                    CHECK ((incident_id IS NULL AND incident_stage IS NULL)
                        OR (incident_id IS NOT NULL AND incident_stage IS NOT NULL AND incident_stage IN ('customers', 'partners')));
                CREATE UNIQUE INDEX campaign_incident_stage ON campaign(incident_id, incident_stage) WHERE incident_id IS NOT NULL;
                ALTER TABLE webhook_message ADD COLUMN incident_id INTEGER REFERENCES incident(id);
                CREATE INDEX webhook_message_incident ON webhook_message(incident_id) WHERE incident_id IS NOT NULL;
                """)
        }
        migrator.registerMigration("v9 customer reconnect: links by hash, web flows, progress, unverified grants") { db in
            // A link's token is never stored: only its SHA-256 (for lookup) and the nonce it is derived from under
            // the key ring. A web flow keeps its PKCE verifier or OAuth 1.0a token secret sealed, is bound to the
            // browser by the hash of a cookie, and is used once. A grant stays unverified until its migration
            // completes, so an interrupted attempt's tokens can be found and discarded.
            try db.execute(sql: """
                CREATE TABLE reconnect_link (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    installation_id TEXT NOT NULL REFERENCES installation(id) ON DELETE CASCADE,
                    campaign_id INTEGER REFERENCES campaign(id) ON DELETE SET NULL,
                    token_hash TEXT NOT NULL UNIQUE CHECK (length(token_hash) = 64),
                    key_version INTEGER NOT NULL CHECK (key_version > 0),
                    nonce TEXT NOT NULL CHECK (length(nonce) = 32),
                    created_at TEXT NOT NULL,
                    expires_at REAL NOT NULL,
                    revoked_at TEXT,
                    first_opened_at TEXT,
                    last_opened_at TEXT,
                    opens INTEGER NOT NULL DEFAULT 0 CHECK (opens >= 0),
                    CHECK ((opens = 0) = (first_opened_at IS NULL))
                );
                CREATE INDEX reconnect_link_installation ON reconnect_link(installation_id);
                CREATE INDEX reconnect_link_campaign ON reconnect_link(campaign_id) WHERE campaign_id IS NOT NULL;
                CREATE TABLE reconnect_flow (
                    state_hash TEXT PRIMARY KEY NOT NULL CHECK (length(state_hash) = 64),
                    installation_id TEXT NOT NULL REFERENCES installation(id) ON DELETE CASCADE,
                    link_id INTEGER NOT NULL REFERENCES reconnect_link(id) ON DELETE CASCADE,
                    browser_hash TEXT NOT NULL CHECK (length(browser_hash) = 64),
                    protocol TEXT NOT NULL CHECK (protocol IN ('oauth1', 'oauth2')),
                    sealed TEXT NOT NULL CHECK (sealed LIKE 'enc:v1:%'),
                    request_token TEXT UNIQUE,
                    created_at TEXT NOT NULL,
                    expires_at REAL NOT NULL,
                    used_at TEXT,
                    CHECK ((protocol = 'oauth1') = (request_token IS NOT NULL))
                ) WITHOUT ROWID;
                CREATE TABLE reconnect_progress (
                    installation_id TEXT PRIMARY KEY NOT NULL REFERENCES installation(id) ON DELETE CASCADE,
                    state TEXT NOT NULL CHECK (state IN ('link_sent', 'opened', 'started', 'migrated', 'failed')),
                    failed_step TEXT,
                    account TEXT,
                    updated_at TEXT NOT NULL,
                    CHECK ((state = 'failed') = (failed_step IS NOT NULL))
                ) WITHOUT ROWID;
                ALTER TABLE oauth_grant ADD COLUMN verified INTEGER NOT NULL DEFAULT 1 CHECK (verified IN (0, 1));
                ALTER TABLE oauth_grant ADD COLUMN attempt_pid INTEGER CHECK (attempt_pid IS NULL OR verified = 0);
                """)
        }
        migrator.registerMigration("v10 grants count invalid_grant refusals apart from other refresh failures") { db in
            // Only the provider's invalid_grant counts toward needing a reconnect; a network error does not.
            try db.execute(sql: """
                ALTER TABLE oauth_grant ADD COLUMN invalid_grants INTEGER NOT NULL DEFAULT 0 CHECK (invalid_grants >= 0);
                """)
        }
        return migrator
    }
}

extension AppDatabase {
    /// ISO 8601 timestamps with milliseconds, in UTC: sortable as text.
    public static func timestamp(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }
}

/// The system's SQLite is older than the store's migrations need.
public struct SQLiteTooOld: RekeyError, Sendable {
    /// 1: the command could not run on this system.
    public var exitCode: Int32 { 1 }

    /// What `sqlite_version()` answered, e.g. `3.31.1`.
    public var version: String
    /// Creates the error for the SQLite version found.
    public init(version: String) { self.version = version }
    /// Names the version found and `AppDatabase.minimumSQLite`.
    public var description: String {
        "the system's SQLite \(version) is too old for rekey's store: it needs \(AppDatabase.minimumSQLite) or newer (Debian 12 has 3.40)"
    }
}

extension AppDatabase {
    /// Whether the store answers a read now (for health checks).
    public func isReadable() async -> Bool {
        (try? await writer.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master") }) != nil
    }
}
