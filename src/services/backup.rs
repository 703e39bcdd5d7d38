//! Backups that restore: a consistent copy of a live database, checked before anything is
//! replaced, and the secrets a backup needs handled apart from it.
//!
//! SQLite: `VACUUM INTO` writes a consistent copy while writers go on (it reads in one
//! transaction; WAL lets writers continue). PostgreSQL: `pg_dump --format=custom` (one snapshot)
//! and `pg_restore --single-transaction`. A backup holds no secret in clear: identity numbers and
//! the statements' private keys are sealed under `SKILLPATH_DATA_KEY`, which stays out of it — a
//! backup without its key is a loss, so `skillpath secrets export` writes the keys for the
//! operator's safe, and a restore refuses a backup whose sealed values do not open under the
//! configured key.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};
use base64::Engine;
use diesel::migration::MigrationSource;
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text};
use diesel::{Connection, SqliteConnection};

use crate::config::{DatabaseUrl, Secret, Settings};
use crate::crypto::{IdentityVault, KeyVault};
use crate::db::Database;

/// What a backup or a restore found in the copy.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The newest migration the copy has.
    pub migration: String,
    pub learners: i64,
    /// Whether a sealed identity number (and a signing key) opened under the configured key.
    pub sealed_values_open: bool,
}

#[derive(QueryableByName)]
struct TextRow {
    #[diesel(sql_type = Nullable<Text>)]
    value: Option<String>,
}

#[derive(QueryableByName)]
struct CountRow {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// The data key in use: configured, or the one stored beside the database (never generated
/// here: a backup tool that made a new key would make every backup unreadable).
pub fn data_key(settings: &Settings) -> anyhow::Result<Secret> {
    crate::secrets::configured_or_existing(
        settings.data_key.as_ref(),
        &settings.secret_file("data-key"),
    )?
    .context("no SKILLPATH_DATA_KEY is set and none is stored beside the database")
}

/// The JWT secret in use (configured or stored), for `secrets export`.
pub fn jwt_secret(settings: &Settings) -> anyhow::Result<Option<Secret>> {
    crate::secrets::configured_or_existing(
        settings.jwt_secret.as_ref(),
        &settings.secret_file("jwt-secret"),
    )
}

/// Writes a consistent copy of the live database to `output` (which must not exist) and checks
/// it.
pub fn backup(settings: &Settings, database: &Database, output: &Path) -> anyhow::Result<Checked> {
    if output.exists() {
        bail!("{} exists: a backup never overwrites", output.display());
    }
    let key = data_key(settings)?;
    match &settings.database {
        DatabaseUrl::Sqlite(_) => {
            let mut conn = database.get().map_err(|e| anyhow::anyhow!("{e:?}"))?;
            let target = output.to_string_lossy().into_owned();
            crate::each_backend!(&mut *conn, c => diesel::sql_query("VACUUM INTO ?")
                .bind::<Text, _>(&target)
                .execute(c))
            .context("VACUUM INTO")?;
            check_sqlite(output, &key)
        }
        DatabaseUrl::Postgres(url) => {
            run(Command::new("pg_dump")
                .args(["--format=custom", "--no-owner", "--no-privileges", "--file"])
                .arg(output)
                .arg(url))?;
            check_pg_archive(output, &key)
        }
    }
}

/// Replaces the configured database with the backup at `input`, after checking it: a file this
/// version can read (its migrations known, newer ones refused), intact, and sealed under the
/// configured data key. The service must be stopped (SQLite: refused while the database is in
/// use). Pending migrations run at the next start.
pub fn restore(settings: &Settings, input: &Path) -> anyhow::Result<Checked> {
    let key = data_key(settings)?;
    match &settings.database {
        DatabaseUrl::Sqlite(target) => {
            let checked = check_sqlite(input, &key)?;
            // Held until the file is replaced.
            let lock = lock_exclusively(target)?;
            // Copied beside the target, flushed, then renamed over it: a crash leaves either the
            // old database or the new one.
            let staging = sibling(target, "restoring");
            std::fs::copy(input, &staging)
                .with_context(|| format!("copying {} to {}", input.display(), staging.display()))?;
            std::fs::File::open(&staging)?.sync_all()?;
            for suffix in ["-wal", "-shm"] {
                let side = PathBuf::from(format!("{}{suffix}", target.display()));
                if side.exists() {
                    std::fs::remove_file(&side)?;
                }
            }
            std::fs::rename(&staging, target)?;
            drop(lock);
            Ok(checked)
        }
        DatabaseUrl::Postgres(url) => {
            let checked = check_pg_archive(input, &key)?;
            run(Command::new("pg_restore")
                .args([
                    "--clean",
                    "--if-exists",
                    "--no-owner",
                    "--no-privileges",
                    "--single-transaction",
                    "--exit-on-error",
                    "--dbname",
                ])
                .arg(url)
                .arg(input))?;
            Ok(checked)
        }
    }
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    PathBuf::from(format!("{}.{suffix}", path.display()))
}

fn run(command: &mut Command) -> anyhow::Result<String> {
    let program = command.get_program().to_string_lossy().into_owned();
    let out = command
        .output()
        .with_context(|| format!("running {program} (is the PostgreSQL client installed?)"))?;
    if !out.status.success() {
        bail!(
            "{program} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The migrations this version knows, by version (the date-and-number prefix of their names).
pub(crate) fn known_versions(postgres: bool) -> anyhow::Result<Vec<String>> {
    let error = |e| anyhow::anyhow!("reading the embedded migrations: {e}");
    Ok(if postgres {
        MigrationSource::<diesel::pg::Pg>::migrations(&crate::db::POSTGRES_MIGRATIONS)
            .map_err(error)?
            .iter()
            .map(|m| m.name().version().to_string())
            .collect()
    } else {
        MigrationSource::<diesel::sqlite::Sqlite>::migrations(&crate::db::SQLITE_MIGRATIONS)
            .map_err(error)?
            .iter()
            .map(|m| m.name().version().to_string())
            .collect()
    })
}

/// The newest of `applied`, after checking that this version knows each of them.
fn newest_known(applied: &[String], postgres: bool) -> anyhow::Result<String> {
    let known = known_versions(postgres)?;
    if let Some(unknown) = applied.iter().find(|v| !known.contains(v)) {
        bail!("the backup has migration {unknown}, which this version does not know: restore it with the version that made it, or a newer one");
    }
    applied
        .iter()
        .max()
        .cloned()
        .context("the backup has no migrations: it is not a Skillpath database")
}

/// Takes a SQLite database's lock file exclusively, at once or not at all: every process using
/// the database holds it shared, so this fails while the service runs (and a service starting
/// meanwhile waits until it is let go).
pub fn lock_exclusively(database: &Path) -> anyhow::Result<std::fs::File> {
    let lock = crate::db::open_lock_file(&crate::db::sqlite_lock_file(database))?;
    if lock.try_lock().is_err() {
        bail!(
            "{} is in use: stop `skillpath serve` and `skillpath worker` first",
            database.display()
        );
    }
    Ok(lock)
}

/// Checks a SQLite copy: intact, its migrations known, its sealed values open under `key`.
pub fn check_sqlite(path: &Path, key: &Secret) -> anyhow::Result<Checked> {
    if !path.is_file() {
        bail!("{} is not a file", path.display());
    }
    let mut conn = SqliteConnection::establish(&path.to_string_lossy())
        .with_context(|| format!("opening {}", path.display()))?;
    diesel::sql_query("PRAGMA query_only = ON").execute(&mut conn)?;
    let integrity: Vec<TextRow> = diesel::sql_query("PRAGMA integrity_check AS value")
        .load(&mut conn)
        .or_else(|_| {
            diesel::sql_query("SELECT integrity_check AS value FROM pragma_integrity_check")
                .load(&mut conn)
        })
        .context("not a SQLite database")?;
    let verdict: Vec<String> = integrity.into_iter().filter_map(|r| r.value).collect();
    if verdict != ["ok"] {
        bail!("{} is damaged: {}", path.display(), verdict.join("; "));
    }
    let applied: Vec<String> = diesel::sql_query(
        "SELECT version AS value FROM __diesel_schema_migrations ORDER BY version",
    )
    .load::<TextRow>(&mut conn)
    .context("not a Skillpath database (no migrations table)")?
    .into_iter()
    .filter_map(|r| r.value)
    .collect();
    let migration = newest_known(&applied, false)?;
    let learners = diesel::sql_query("SELECT COUNT(*) AS n FROM learners")
        .get_result::<CountRow>(&mut conn)?
        .n;
    let sealed = diesel::sql_query(
        "SELECT id_number_ciphertext AS value FROM learners WHERE id_number_ciphertext IS NOT NULL LIMIT 1",
    )
    .load::<TextRow>(&mut conn)?
    .into_iter()
    .find_map(|r| r.value);
    let private = diesel::sql_query("SELECT private_key AS value FROM signing_keys LIMIT 1")
        .load::<TextRow>(&mut conn)?
        .into_iter()
        .find_map(|r| r.value);
    let sealed_values_open = check_key(key, sealed.as_deref(), private.as_deref())?;
    Ok(Checked {
        migration,
        learners,
        sealed_values_open,
    })
}

/// Whether the sealed values open under `key`; an error when one does not (the backup was made
/// under another key, or the key is wrong).
fn check_key(key: &Secret, sealed: Option<&str>, private: Option<&str>) -> anyhow::Result<bool> {
    if let Some(sealed) = sealed {
        IdentityVault::new(key)?.open(sealed).context(
            "the backup's identity numbers do not open under the configured SKILLPATH_DATA_KEY: \
             use the key the backup was made with",
        )?;
    }
    if let Some(private) = private {
        KeyVault::new(key)?.open(private).context(
            "the backup's signing keys do not open under the configured SKILLPATH_DATA_KEY: \
             use the key the backup was made with",
        )?;
    }
    Ok(sealed.is_some() || private.is_some())
}

/// Checks a PostgreSQL archive: `pg_restore` reads its table of contents; its migrations (and a
/// sealed value) are read from its data without touching any database.
fn check_pg_archive(path: &Path, key: &Secret) -> anyhow::Result<Checked> {
    run(Command::new("pg_restore").arg("--list").arg(path))
        .with_context(|| format!("{} is not a pg_dump archive", path.display()))?;
    let rows = |table: &str| -> anyhow::Result<Vec<Vec<String>>> {
        let text = run(Command::new("pg_restore")
            .args(["--data-only", "--table", table, "--file", "-"])
            .arg(path))?;
        // The COPY block: one tab-separated line per row, ended by "\.".
        Ok(text
            .lines()
            .skip_while(|l| !l.starts_with("COPY "))
            .skip(1)
            .take_while(|l| *l != "\\.")
            .map(|l| l.split('\t').map(str::to_owned).collect())
            .collect())
    };
    let applied: Vec<String> = rows("__diesel_schema_migrations")?
        .into_iter()
        .filter_map(|r| r.into_iter().next())
        .collect();
    let migration = newest_known(&applied, true)?;
    let learners = rows("learners")?;
    // signing_keys: kid, algorithm, public_key, private_key, …
    let private = rows("signing_keys")?
        .into_iter()
        .find_map(|r| r.get(3).cloned());
    let sealed_values_open = check_key(key, None, private.as_deref())?;
    Ok(Checked {
        migration,
        learners: learners.len() as i64,
        sealed_values_open,
    })
}

/// Writes the secrets a backup needs to `output` (a new file, mode 0600), for the operator's
/// safe: the values configured in the environment as assignments, and the contents of the key
/// files the service generated beside the database when none was configured.
pub fn export_secrets(settings: &Settings, output: &Path) -> anyhow::Result<()> {
    let mut text = String::from(
        "# Skillpath's secrets: keep this file in a safe, apart from the backups.\n\
         # Without the data key a backup's identity numbers and signing keys cannot be read.\n",
    );
    for (variable, configured, file) in [
        ("SKILLPATH_DATA_KEY", settings.data_key.as_ref(), "data-key"),
        (
            "SKILLPATH_JWT_SECRET",
            settings.jwt_secret.as_ref(),
            "jwt-secret",
        ),
    ] {
        let path = settings.secret_file(file);
        // Checked as the service reads it (base64, long enough); always written as base64 of
        // the bytes: exact whatever they are, and safe to source.
        match crate::secrets::configured_or_existing(configured, &path)? {
            Some(secret) => {
                if configured.is_none() {
                    text.push_str(&format!(
                        "# {variable} was generated into {}: this is the same secret (set it \
                         so, or put the base64 text back into that file)\n",
                        path.display()
                    ));
                }
                text.push_str(&format!(
                    "{variable}={}{}\n",
                    crate::config::BASE64_SECRET_PREFIX,
                    base64::engine::general_purpose::STANDARD.encode(secret.expose())
                ));
            }
            None => text.push_str(&format!("# {variable}: neither configured nor stored\n")),
        }
    }
    crate::secrets::write_private(output, &text)
        .with_context(|| format!("writing {}", output.display()))
}
