//! The database: one connection type over SQLite and PostgreSQL, its pool, migrations, and the
//! one way handlers reach it (`Database::read` / `Database::write`, off the HTTP workers).
//!
//! A lookup by a primary or unique key uses `get_result`, not `first`: `first` appends a bound
//! `LIMIT`, which SQLite plans by its value, so the prepared statement expires each time it is
//! bound and is parsed again on every call (a tenth of a progress request's time). `first` is
//! for an ordered pick among many rows (the test below holds every file of this module to it).

pub mod account_links;
pub mod allowances;
pub mod audit;
pub mod calendar;
pub mod certificates;
pub mod cohorts;
pub mod corrections;
pub mod designation_applications;
pub mod erasure;
pub mod institution_records;
pub mod institutions;
pub mod jobs;
pub mod learners;
pub mod milestones;
pub mod notifications;
pub mod occupations;
pub mod partnerships;
pub mod personal_data;
pub mod progress_snapshots;
pub mod records;
pub mod refresh_tokens;
pub mod retention;
pub mod schema;
pub mod shares;
pub mod users;
pub mod web_sessions;

use std::path::PathBuf;

use anyhow::Context;
use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection, Pool, PooledConnection, R2D2Connection};
use diesel::{PgConnection, SqliteConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::config::{DatabaseUrl, Settings};
use crate::error::AppError;

/// Runs `$body` with `$c` bound to the inner connection of whichever backend `$conn` holds,
/// for the few statements `MultiConnection` cannot express once (e.g. `RETURNING`).
#[macro_export]
macro_rules! each_backend {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            $crate::db::DbConnection::Postgres($c) => $body,
            $crate::db::DbConnection::Sqlite($c) => $body,
        }
    };
}

/// Inserts the insertable `$rows` into `$table`, returning the rows written: streamed with `COPY
/// … FROM STDIN` (binary) on PostgreSQL, one multi-row `INSERT` on SQLite. For bulk loads whose
/// keys the caller knows (`COPY` returns nothing).
#[macro_export]
macro_rules! copy_or_insert {
    ($conn:expr, $table:expr, $rows:expr) => {
        match $conn {
            $crate::db::DbConnection::Postgres(c) => {
                diesel::copy_from($table).from_insertable($rows).execute(c)
            }
            $crate::db::DbConnection::Sqlite(c) => {
                diesel::insert_into($table).values($rows).execute(c)
            }
        }
    };
}

/// Loads the rows of `$query` whose `$column` is one of `$keys` (a slice): none without a round
/// trip, one with `column = key` — a statement the connection keeps prepared (SQLite cannot keep
/// `IN (…)` lists, whose text depends on their length) —, several with `column IN (…)`.
/// What a single learner's request needs is then prepared once per connection, not per request.
#[macro_export]
macro_rules! load_by_keys {
    ($conn:expr, $query:expr, $column:expr, $keys:expr) => {
        match $keys {
            [] => Ok(Vec::new()),
            [one] => $query.filter($column.eq(one)).load($conn),
            many => $query.filter($column.eq_any(many)).load($conn),
        }
    };
}

/// A connection to either backend; queries are written once against it.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgres(PgConnection),
    Sqlite(SqliteConnection),
}

pub(crate) const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
pub(crate) const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Held while migrating so that replicas starting together do not race.
const MIGRATION_LOCK_KEY: i64 = 7_218_501_003;

// SQLite settings applied to every new connection: concurrent readers beside one writer (WAL),
// waiting for the write lock rather than failing at once (long enough to outlast a large cohort
// import, which holds it for its whole all-or-nothing transaction), enforced references, and
// statement journals in memory (a multi-row insert inside a transaction journals the pages it
// changes so that it can be undone alone; in a file, that was a fifth of a cohort import).
// PostgreSQL session settings: the service's queries are short, and a plan misled by stale
// statistics (after a bulk load) must not add JIT compilation to every one of them.
const POSTGRES_SESSION: &str = "SET jit = off;";

const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
PRAGMA busy_timeout = 30000;
PRAGMA foreign_keys = ON;
PRAGMA temp_store = MEMORY;";

/// Opens connections of the backend that `DATABASE_URL` names, and no other: a PostgreSQL URL
/// that cannot be reached must never fall back to creating a SQLite file of that name.
#[derive(Debug, Clone)]
pub struct ConnectionFactory {
    url: DatabaseUrl,
}

impl ManageConnection for ConnectionFactory {
    type Connection = DbConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConnection, r2d2::Error> {
        match &self.url {
            DatabaseUrl::Postgres(url) => {
                let mut conn =
                    PgConnection::establish(url).map_err(r2d2::Error::ConnectionError)?;
                conn.batch_execute(POSTGRES_SESSION)
                    .map_err(r2d2::Error::QueryError)?;
                Ok(DbConnection::Postgres(conn))
            }
            DatabaseUrl::Sqlite(path) => {
                let mut conn = SqliteConnection::establish(&path.to_string_lossy())
                    .map_err(r2d2::Error::ConnectionError)?;
                conn.batch_execute(SQLITE_PRAGMAS)
                    .map_err(r2d2::Error::QueryError)?;
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        conn.ping().map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        conn.is_broken()
    }
}

pub type DbPool = Pool<ConnectionFactory>;
pub type PooledDb = PooledConnection<ConnectionFactory>;

/// The shared handle to the database.
#[derive(Clone)]
pub struct Database {
    pool: DbPool,
    url: DatabaseUrl,
    suspect: Suspect,
    /// SQLite: a shared lock on the database's lock file, held while this process uses it, so
    /// that a restore (which needs it exclusively) cannot replace the file under a running
    /// service.
    _in_use: Option<std::sync::Arc<std::fs::File>>,
}

/// The file whose lock says that a SQLite database is in use.
pub fn sqlite_lock_file(database: &std::path::Path) -> std::path::PathBuf {
    std::path::PathBuf::from(format!("{}.lock", database.display()))
}

/// Opens (creating it if need be) a file that is only ever locked, never written.
pub fn open_lock_file(path: &std::path::Path) -> anyhow::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .with_context(|| format!("opening {}", path.display()))
}

/// When a connection was last found closed: for a minute after, checkouts are checked.
#[derive(Clone, Default)]
struct Suspect(std::sync::Arc<std::sync::Mutex<Option<std::time::Instant>>>);

impl Suspect {
    const FOR: std::time::Duration = std::time::Duration::from_secs(60);

    fn set(&self) {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(std::time::Instant::now());
    }

    fn is_set(&self) -> bool {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .is_some_and(|since| since.elapsed() < Self::FOR)
    }
}

impl Database {
    /// Builds the pool without opening connections eagerly beyond the first check.
    /// Blocking: call from startup or `spawn_blocking`.
    pub fn connect(settings: &Settings) -> anyhow::Result<Self> {
        let mut in_use = None;
        if let DatabaseUrl::Sqlite(path) = &settings.database {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating the directory {}", dir.display()))?;
            }
            let lock_path = sqlite_lock_file(path);
            let lock = open_lock_file(&lock_path)?;
            // A file system without locks (some network mounts) only loses restore's check.
            match lock.lock_shared() {
                Ok(()) => in_use = Some(std::sync::Arc::new(lock)),
                Err(error) => tracing::warn!(
                    file = %lock_path.display(),
                    %error,
                    "cannot lock the database's lock file: a restore could not tell that the service is running"
                ),
            }
        }
        let pool = Pool::builder()
            .max_size(settings.pool_size)
            .min_idle(Some(1))
            .connection_timeout(settings.pool_timeout)
            // A check on every checkout is a round trip per request; `Database::get` checks only
            // after a connection was found closed, and `Database::run` retries on another one.
            .test_on_check_out(false)
            .build(ConnectionFactory {
                url: settings.database.clone(),
            })
            .with_context(|| {
                format!(
                    "connecting to the {} database",
                    settings.database.backend_name()
                )
            })?;
        Ok(Self {
            pool,
            url: settings.database.clone(),
            suspect: Suspect::default(),
            _in_use: in_use,
        })
    }

    pub fn backend_name(&self) -> &'static str {
        self.url.backend_name()
    }

    /// The SQLite file, when that is the backend.
    pub fn sqlite_path(&self) -> Option<&PathBuf> {
        match &self.url {
            DatabaseUrl::Sqlite(path) => Some(path),
            DatabaseUrl::Postgres(_) => None,
        }
    }

    pub fn pool_state(&self) -> r2d2::State {
        self.pool.state()
    }

    pub fn pool_max_size(&self) -> u32 {
        self.pool.max_size()
    }

    /// A pooled connection, for blocking code that is already off the HTTP workers.
    ///
    /// Connections are not checked on checkout (a round trip per request). After a statement
    /// has found its connection closed (the server restarted, the network dropped it), the pool
    /// is suspect for a while: checkouts ping, and dead connections are discarded (diesel marks a
    /// connection whose server is gone as broken, and the pool drops it when it comes back).
    pub fn get(&self) -> Result<PooledDb, AppError> {
        let suspect = self.suspect.is_set();
        // Beyond the pool's size, every connection found was dead: the next one is new.
        for _ in 0..=self.pool.max_size() {
            let mut conn = self.pool.get()?;
            if !suspect || conn.ping().is_ok() {
                return Ok(conn);
            }
        }
        Ok(self.pool.get()?)
    }

    /// Runs `f` with a pooled connection, once more on another connection when the first was
    /// found closed (so a dead connection costs a retry, not a failed request). `f` may run twice:
    /// for reads, and stores that repeat harmlessly (a progress snapshot). Blocking.
    pub fn run<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, AppError> + Clone,
    {
        let again = f.clone();
        let mut conn = self.get()?;
        match f(&mut conn) {
            Err(error) if error.is_closed_connection() => {
                self.suspect.set();
                drop(conn);
                self.noting_closed(again(&mut *self.get()?))
            }
            outcome => outcome,
        }
    }

    /// Runs `f` on the blocking pool with a pooled connection (see [`Database::run`]).
    pub async fn read<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, AppError> + Clone + Send + 'static,
        T: Send + 'static,
    {
        let db = self.clone();
        tokio::task::spawn_blocking(move || db.run(f))
            .await
            .map_err(|e| AppError::internal("blocking task", e))?
    }

    /// Runs `f` in a write transaction (`BEGIN IMMEDIATE` on SQLite) on the blocking pool.
    ///
    /// A connection found closed when the transaction begins is replaced by another (nothing was
    /// sent yet, so nothing is repeated). One lost later is not retried: the commit may have
    /// happened, and the request answers 503.
    pub async fn write<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        let db = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = db.begun_write()?;
            let outcome = f(&mut conn);
            db.noting_closed(end_write(&mut conn, outcome))
        })
        .await
        .map_err(|e| AppError::internal("blocking task", e))?
    }

    /// A connection with a write transaction begun on it (see [`Database::write`]).
    fn begun_write(&self) -> Result<PooledDb, AppError> {
        let mut conn = self.get()?;
        match begin_write(&mut conn).map_err(AppError::from) {
            Ok(()) => Ok(conn),
            Err(error) if error.is_closed_connection() => {
                self.suspect.set();
                drop(conn);
                let mut conn = self.get()?;
                begin_write(&mut conn)?;
                Ok(conn)
            }
            Err(error) => Err(error),
        }
    }

    /// `outcome`, having noted when it says a connection was found closed.
    fn noting_closed<T>(&self, outcome: Result<T, AppError>) -> Result<T, AppError> {
        if outcome.as_ref().is_err_and(AppError::is_closed_connection) {
            self.suspect.set();
        }
        outcome
    }

    /// Applies pending migrations. Blocking. Processes starting together take turns: on
    /// PostgreSQL through an advisory lock, on SQLite through a lock on a file beside the
    /// database (a `serve` and a `worker` started at once on a new file would otherwise both
    /// create its first tables).
    pub fn migrate(&self) -> anyhow::Result<Vec<String>> {
        let _turn = match &self.url {
            DatabaseUrl::Sqlite(path) => {
                let turn_path = PathBuf::from(format!("{}.migrating", path.display()));
                let turn = open_lock_file(&turn_path)?;
                turn.lock()
                    .with_context(|| format!("locking {}", turn_path.display()))?;
                Some(turn)
            }
            DatabaseUrl::Postgres(_) => None,
        };
        let mut conn = self.pool.get().context("getting a connection to migrate")?;
        run_migrations(&mut conn)
    }
}

/// Runs `f` on one snapshot of the database, so that rows read by several statements belong
/// together: a read-only repeatable-read transaction on PostgreSQL, a deferred one on SQLite
/// (whose first read fixes the snapshot it reads until the end).
pub fn snapshot<T, E, F>(conn: &mut DbConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    conn.transaction(|conn| {
        if let DbConnection::Postgres(c) = conn {
            c.batch_execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")?;
        }
        f(conn)
    })
}

/// A write transaction. SQLite takes the write lock up front (`BEGIN IMMEDIATE`), so a
/// transaction that reads and then writes never fails half-way with "database is locked";
/// PostgreSQL uses an ordinary transaction.
pub fn write_transaction<T, E, F>(conn: &mut DbConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    begin_write(conn)?;
    let outcome = f(conn);
    end_write(conn, outcome)
}

/// Begins the transaction of [`write_transaction`].
fn begin_write(conn: &mut DbConnection) -> QueryResult<()> {
    match conn {
        DbConnection::Sqlite(c) => {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")
        }
        DbConnection::Postgres(c) => AnsiTransactionManager::begin_transaction(c),
    }
}

/// Ends the transaction [`begin_write`] began: committed when `outcome` is a success, else
/// rolled back (the first error is the one answered).
fn end_write<T, E>(conn: &mut DbConnection, outcome: Result<T, E>) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    fn end<C, T, E>(c: &mut C, outcome: Result<T, E>) -> Result<T, E>
    where
        C: Connection<TransactionManager = AnsiTransactionManager>,
        E: From<diesel::result::Error>,
    {
        match outcome {
            Ok(value) => match AnsiTransactionManager::commit_transaction(c) {
                Ok(()) => Ok(value),
                Err(commit_err) => {
                    let _ = AnsiTransactionManager::rollback_transaction(c);
                    Err(commit_err.into())
                }
            },
            Err(err) => match AnsiTransactionManager::rollback_transaction(c) {
                Ok(()) | Err(diesel::result::Error::BrokenTransactionManager) => Err(err),
                Err(rollback_err) => Err(rollback_err.into()),
            },
        }
    }
    match conn {
        DbConnection::Sqlite(c) => end(c, outcome),
        DbConnection::Postgres(c) => end(c, outcome),
    }
}

/// Runs the migrations of the connection's backend; returns the versions applied.
pub fn run_migrations(conn: &mut DbConnection) -> anyhow::Result<Vec<String>> {
    fn names<V: std::fmt::Display>(
        result: Result<Vec<V>, Box<dyn std::error::Error + Send + Sync>>,
    ) -> anyhow::Result<Vec<String>> {
        result
            .map(|applied| applied.iter().map(ToString::to_string).collect())
            .map_err(|e| anyhow::anyhow!("running migrations: {e}"))
    }
    match conn {
        DbConnection::Sqlite(c) => names(c.run_pending_migrations(SQLITE_MIGRATIONS)),
        DbConnection::Postgres(c) => {
            c.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))?;
            let applied = names(c.run_pending_migrations(POSTGRES_MIGRATIONS));
            c.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))?;
            applied
        }
    }
}

/// Escapes `%`, `_` and `\` so user input in a LIKE pattern matches literally.
pub fn escape_like(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    for c in input.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Refreshes the planner's statistics of `tables` after a bulk change (PostgreSQL only: on
/// SQLite the plans do not depend on them here). Stale statistics after a bulk load made the
/// per-batch queries of a recomputation seven times slower.
pub fn analyze(conn: &mut DbConnection, tables: &[&str]) -> QueryResult<()> {
    if let DbConnection::Postgres(pg) = conn {
        pg.batch_execute(&format!("ANALYZE {}", tables.join(", ")))?;
    }
    Ok(())
}

/// `count` ids taken from the identity sequence of `table`'s `id` column, for rows about to be
/// loaded with `COPY` (which returns nothing). Ids a rolled-back load took are not reused.
pub(crate) fn reserve_ids(
    conn: &mut PgConnection,
    table: &'static str,
    count: usize,
) -> QueryResult<Vec<i64>> {
    #[derive(QueryableByName)]
    struct Reserved {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        id: i64,
    }
    let count = i64::try_from(count).unwrap_or(i64::MAX);
    let rows: Vec<Reserved> = diesel::sql_query(format!(
        "SELECT nextval(s.seq) AS id FROM (SELECT pg_get_serial_sequence('{table}', 'id')::regclass \
         AS seq) s, generate_series(1, $1)"
    ))
    .bind::<diesel::sql_types::BigInt, _>(count)
    .load(conn)?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// The current time as stored: UTC without offset, to the microsecond (both backends agree).
pub fn now() -> chrono::NaiveDateTime {
    let now = chrono::Utc::now().naive_utc();
    now.with_nanosecond_truncated()
}

trait TruncateToMicros {
    fn with_nanosecond_truncated(self) -> Self;
}

impl TruncateToMicros for chrono::NaiveDateTime {
    fn with_nanosecond_truncated(self) -> Self {
        use chrono::Timelike;
        let micros = self.nanosecond() / 1_000 * 1_000;
        self.with_nanosecond(micros).unwrap_or(self)
    }
}

#[cfg(test)]
mod tests {
    /// `first` (a bound `LIMIT`, re-prepared on every call by SQLite) only where the statement
    /// orders many rows to pick one; a lookup by key uses `get_result` (see the module's doc).
    #[test]
    fn first_is_only_an_ordered_pick() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/db");
        let mut checked = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            let lines: Vec<&str> = text.lines().collect();
            for (i, line) in lines.iter().enumerate() {
                let code = line.split("//").next().unwrap_or_default();
                if !code.contains(".first(") || code.contains("\".first(") {
                    continue;
                }
                checked += 1;
                let before = &lines[i.saturating_sub(12)..i];
                assert!(
                    before.iter().any(|l| l.contains(".order(")),
                    "{}:{}: `first` without an order: a lookup by key uses `get_result`",
                    path.display(),
                    i + 1
                );
            }
        }
        assert!(checked >= 2, "the ordered picks are still found");
    }
}
