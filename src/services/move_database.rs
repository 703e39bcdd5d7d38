//! Moving a deployment from its SQLite file to PostgreSQL: every row of every table copied into
//! a new PostgreSQL database, in one transaction there, with the row counts checked before it
//! commits.
//!
//! The SQLite file is read in one transaction (a consistent copy) while it is locked against the
//! service (a write after the copy would be lost: stop `serve` and `worker` first). The target is
//! migrated to this version and must hold nothing an operator or a learner stored; what the
//! migrations seeded there is replaced by the file's own rows. Each table's rows travel as JSON
//! (`json_object` on SQLite, `json_populate_recordset` on PostgreSQL), so each value is read by
//! PostgreSQL's own input function for its column's type (0/1 as booleans, blobs as `\x…` hex).
//! Progress snapshots are not copied: they are a cache, rebuilt on the next read of each
//! learner's progress. The identity numbers and signing keys stay sealed as they were: the new
//! deployment needs the same `SKILLPATH_DATA_KEY` (`skillpath export-secrets`).

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{bail, Context};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Nullable, Text};
use diesel::{PgConnection, SqliteConnection};

use crate::config::{DatabaseUrl, Settings};
use crate::db::Database;

/// Rows read from SQLite and written to PostgreSQL at a time.
const BATCH_ROWS: i64 = 2_000;

/// A cache rebuilt on read, left behind.
const NOT_COPIED: &[&str] = &["progress_snapshots"];

/// Tables that hold what operators and learners stored: the target must have none of these rows.
const MUST_BE_EMPTY: &[&str] = &["users", "learners", "institutions", "audit_log"];

/// What was moved.
#[derive(Debug, Clone)]
pub struct Moved {
    /// Rows per table, as counted in both databases.
    pub rows: BTreeMap<String, i64>,
    pub seconds: f64,
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(QueryableByName)]
struct SqliteColumn {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    column_type: String,
}

#[derive(QueryableByName)]
struct Batch {
    #[diesel(sql_type = Nullable<BigInt>)]
    last: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    rows: Option<String>,
    #[diesel(sql_type = Integer)]
    n: i32,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Reference {
    #[diesel(sql_type = Text)]
    child: String,
    #[diesel(sql_type = Text)]
    parent: String,
}

#[derive(QueryableByName)]
struct Generated {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
}

/// A name as an SQL identifier (every table and column name here comes from the databases' own
/// catalogs, and is quoted all the same).
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Copies the configured SQLite database into the empty PostgreSQL database at `target`.
pub fn to_postgres(settings: &Settings, target: &str) -> anyhow::Result<Moved> {
    let started = std::time::Instant::now();
    let DatabaseUrl::Sqlite(source_path) = &settings.database else {
        bail!("DATABASE_URL must name the SQLite file to move from");
    };
    let Ok(DatabaseUrl::Postgres(target_url)) = DatabaseUrl::parse(target) else {
        bail!("--to must be a postgres:// URL");
    };
    if !source_path.is_file() {
        bail!("{} is not a file", source_path.display());
    }
    let _lock = crate::services::backup::lock_exclusively(source_path)?;
    let mut source = open_source(source_path)?;
    let mut target = prepare_target(settings, &target_url)?;
    let tables = copy_order(&mut source, &mut target)?;
    target.batch_execute("BEGIN")?;
    match copy_all(&mut source, &mut target, &tables) {
        Ok(rows) => {
            target.batch_execute("COMMIT")?;
            source.batch_execute("COMMIT")?;
            // Fresh statistics: plans made on an empty database's would be slow on the copy.
            // The move is done either way; the first autovacuum would gather them too.
            if let Err(error) = target.batch_execute("ANALYZE") {
                tracing::warn!(%error, "the copy is committed; ANALYZE it by hand");
            }
            Ok(Moved {
                rows,
                seconds: started.elapsed().as_secs_f64(),
            })
        }
        Err(error) => {
            let _ = target.batch_execute("ROLLBACK");
            Err(error)
        }
    }
}

/// The SQLite file, read in one transaction, after checking that it is at this version's
/// migrations (a file of an older version is migrated by starting the service once; a newer
/// one is moved by the version that made it).
fn open_source(path: &std::path::Path) -> anyhow::Result<SqliteConnection> {
    let mut source = SqliteConnection::establish(&path.to_string_lossy())
        .with_context(|| format!("opening {}", path.display()))?;
    source.batch_execute("PRAGMA query_only = ON; BEGIN;")?;
    let known: BTreeSet<String> = crate::services::backup::known_versions(false)?
        .into_iter()
        .collect();
    if applied(&mut source)? != known {
        bail!(
            "{} is not at this version's migrations: run `skillpath migrate` on it with this \
             version first (or move it with the version that made it)",
            path.display()
        );
    }
    Ok(source)
}

/// The target, checked to hold nothing anyone stored before anything is done to it, then
/// migrated to this version through the service's own migrations.
fn prepare_target(settings: &Settings, url: &str) -> anyhow::Result<PgConnection> {
    let mut target = PgConnection::establish(url).context("connecting to the target")?;
    refuse_unless_empty(&mut target)?;
    let mut target_settings = settings.clone();
    target_settings.database = DatabaseUrl::Postgres(url.to_owned());
    Database::connect(&target_settings)?.migrate()?;
    Ok(target)
}

/// Refuses a target in which any of [`MUST_BE_EMPTY`] holds a row.
fn refuse_unless_empty(target: &mut PgConnection) -> anyhow::Result<()> {
    for table in MUST_BE_EMPTY {
        let exists: Count = diesel::sql_query(
            "SELECT COUNT(*) AS n FROM pg_tables WHERE schemaname = current_schema() AND tablename = $1",
        )
        .bind::<Text, _>(*table)
        .get_result(target)?;
        if exists.n > 0 && count(target, table)? > 0 {
            bail!("the target database already holds {table}: move into a new, empty database");
        }
    }
    Ok(())
}

/// Replaces everything in the target with the source's rows, table by table, each count
/// checked. Runs inside the target's transaction.
fn copy_all(
    source: &mut SqliteConnection,
    target: &mut PgConnection,
    tables: &[(String, Vec<SqliteColumn>)],
) -> anyhow::Result<BTreeMap<String, i64>> {
    refuse_unless_empty(target)?;
    // Every table at once (what the migrations seeded is replaced by the file's rows).
    let all: Vec<String> = target_tables(target)?.iter().map(|t| quoted(t)).collect();
    target.batch_execute(&format!("TRUNCATE {} RESTART IDENTITY", all.join(", ")))?;
    let mut rows = BTreeMap::new();
    for (table, columns) in tables {
        copy_table(source, target, table, columns).with_context(|| format!("copying {table}"))?;
        let (from, to) = (count(source, table)?, count(target, table)?);
        if from != to {
            bail!("{table}: {from} row(s) in the file, {to} copied");
        }
        rows.insert(table.clone(), to);
    }
    restart_sequences(target)?;
    Ok(rows)
}

/// The target's tables, but for the migrations' own.
fn target_tables(target: &mut PgConnection) -> anyhow::Result<BTreeSet<String>> {
    Ok(diesel::sql_query(
        "SELECT tablename::text AS name FROM pg_tables \
         WHERE schemaname = current_schema() AND tablename NOT LIKE '\\_\\_diesel%'",
    )
    .load::<Name>(target)?
    .into_iter()
    .map(|r| r.name)
    .collect())
}

fn applied<C>(conn: &mut C) -> anyhow::Result<BTreeSet<String>>
where
    C: Connection + diesel::connection::LoadConnection,
    Name: QueryableByName<C::Backend>,
    diesel::query_builder::SqlQuery: diesel::query_dsl::LoadQuery<'static, C, Name>,
{
    Ok(
        diesel::sql_query("SELECT version AS name FROM __diesel_schema_migrations")
            .load::<Name>(conn)
            .context("not a Skillpath database (no migrations table)")?
            .into_iter()
            .map(|r| r.name)
            .collect(),
    )
}

fn count<C>(conn: &mut C, table: &str) -> anyhow::Result<i64>
where
    C: Connection + diesel::connection::LoadConnection,
    Count: QueryableByName<C::Backend>,
    diesel::query_builder::SqlQuery: diesel::query_dsl::LoadQuery<'static, C, Count>,
{
    Ok(
        diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {}", quoted(table)))
            .get_result::<Count>(conn)?
            .n,
    )
}

/// The tables to copy with their columns, parents before children (by the target's foreign
/// keys); both databases must have the same tables and columns.
fn copy_order(
    source: &mut SqliteConnection,
    target: &mut PgConnection,
) -> anyhow::Result<Vec<(String, Vec<SqliteColumn>)>> {
    let names: Vec<String> = diesel::sql_query(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
         AND name NOT LIKE '__diesel%' ORDER BY name",
    )
    .load::<Name>(source)?
    .into_iter()
    .map(|r| r.name)
    .filter(|n| !NOT_COPIED.contains(&n.as_str()))
    .collect();
    let theirs: Vec<String> = target_tables(target)?
        .into_iter()
        .filter(|n| !NOT_COPIED.contains(&n.as_str()))
        .collect();
    if names != theirs {
        bail!("the target's tables are not the file's: is it at this version's schema?");
    }
    let target_columns =
        |target: &mut PgConnection, table: &str| -> anyhow::Result<BTreeSet<String>> {
            Ok(diesel::sql_query(
                "SELECT column_name::text AS name FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1",
            )
            .bind::<Text, _>(table)
            .load::<Name>(target)?
            .into_iter()
            .map(|r| r.name)
            .collect())
        };
    let mut columns = BTreeMap::new();
    for table in &names {
        let of_source: Vec<SqliteColumn> = diesel::sql_query(format!(
            "SELECT name, type AS column_type FROM pragma_table_info('{}') ORDER BY cid",
            table.replace('\'', "''")
        ))
        .load(source)?;
        let mine: BTreeSet<String> = of_source.iter().map(|c| c.name.clone()).collect();
        let theirs = target_columns(target, table)?;
        if mine != theirs {
            bail!("{table} has other columns in the target: is it at this version's schema?");
        }
        columns.insert(table.clone(), of_source);
    }
    let references: Vec<Reference> = diesel::sql_query(
        "SELECT c.conrelid::regclass::text AS child, c.confrelid::regclass::text AS parent \
         FROM pg_constraint c WHERE c.contype = 'f' AND c.connamespace = current_schema()::regnamespace",
    )
    .load(target)?;
    parents_first(columns, &references)
}

/// The tables in an order where every table comes after those its rows refer to (a reference
/// of a table to itself or to a table not copied aside).
fn parents_first(
    mut columns: BTreeMap<String, Vec<SqliteColumn>>,
    references: &[Reference],
) -> anyhow::Result<Vec<(String, Vec<SqliteColumn>)>> {
    let mut ordered = Vec::new();
    while !columns.is_empty() {
        let waits = |table: &str| {
            references.iter().any(|r| {
                let (child, parent) = (r.child.trim_matches('"'), r.parent.trim_matches('"'));
                child == table && parent != table && columns.contains_key(parent)
            })
        };
        let ready: Vec<String> = columns.keys().filter(|t| !waits(t)).cloned().collect();
        if ready.is_empty() {
            bail!("the tables' references form a cycle");
        }
        for table in ready {
            if let Some(cols) = columns.remove(&table) {
                ordered.push((table, cols));
            }
        }
    }
    Ok(ordered)
}

/// Copies one table in batches of rows in rowid order (a parent row before the rows of the same
/// table that refer to it, as they were written).
fn copy_table(
    source: &mut SqliteConnection,
    target: &mut PgConnection,
    table: &str,
    columns: &[SqliteColumn],
) -> anyhow::Result<()> {
    let fields: Vec<String> = columns
        .iter()
        .map(|c| {
            let column = quoted(&c.name);
            let value = if c.column_type.eq_ignore_ascii_case("blob") {
                format!("CASE WHEN typeof({column}) = 'blob' THEN '\\x' || hex({column}) ELSE {column} END")
            } else {
                column
            };
            format!("'{}', {value}", c.name.replace('\'', "''"))
        })
        .collect();
    let select = format!(
        "SELECT MAX(rid) AS last, json_group_array(json(doc)) AS rows, COUNT(*) AS n FROM \
         (SELECT rowid AS rid, json_object({}) AS doc FROM {} WHERE rowid > ? ORDER BY rowid LIMIT {BATCH_ROWS})",
        fields.join(", "),
        quoted(table)
    );
    let names: Vec<String> = columns.iter().map(|c| quoted(&c.name)).collect();
    let insert = format!(
        "INSERT INTO {table_q} ({cols}) SELECT {cols} FROM json_populate_recordset(NULL::{table_q}, $1::json)",
        table_q = quoted(table),
        cols = names.join(", ")
    );
    let mut after = i64::MIN;
    loop {
        let batch: Batch = diesel::sql_query(&select)
            .bind::<BigInt, _>(after)
            .get_result(source)?;
        if batch.n == 0 {
            return Ok(());
        }
        let rows = batch.rows.unwrap_or_else(|| "[]".into());
        diesel::sql_query(&insert)
            .bind::<Text, _>(rows)
            .execute(target)?;
        after = batch.last.unwrap_or(i64::MAX);
    }
}

/// Sets every generated key's sequence past the largest key copied.
fn restart_sequences(target: &mut PgConnection) -> anyhow::Result<()> {
    let generated: Vec<Generated> = diesel::sql_query(
        "SELECT table_name::text AS table_name, column_name::text AS column_name \
         FROM information_schema.columns WHERE table_schema = current_schema() \
         AND (column_default LIKE 'nextval(%' OR is_identity = 'YES')",
    )
    .load(target)?;
    for g in generated {
        let (table, column) = (quoted(&g.table_name), quoted(&g.column_name));
        diesel::sql_query(format!(
            "SELECT setval(pg_get_serial_sequence($1, $2), COALESCE((SELECT MAX({column}) FROM {table}), 0) + 1, false)",
        ))
        .bind::<Text, _>(&table)
        .bind::<Text, _>(&g.column_name)
        .execute(target)?;
    }
    Ok(())
}
