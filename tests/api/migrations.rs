//! Expand, then contract: replicas of the previous release keep running while a new release's
//! migrations are applied (docs/operations.md, "Upgrades"), so a migration may only add — tables,
//! columns the old code need not write (nullable or with a default), indexes — or relax a
//! constraint. Removing, renaming or retyping a column, or making one required, is a contract
//! step: it ships a release after the code stopped using what it removes, and is declared in
//! [`CONTRACTS`]. Each migration is applied one at a time, on both backends, and the schema
//! before and after compared.

use std::collections::BTreeMap;

use diesel::prelude::*;
use diesel::sql_types::{Integer, Nullable, Text};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// The contract steps so far, each with the column it removed or changed. A new entry needs a
/// release between the one that stopped using the column and the one that removes it.
const CONTRACTS: &[(&str, &str)] = &[
    // The progress snapshots moved to a packed body in the same release that dropped the JSON
    // one (before replicas were supported); snapshots are recomputed when missing.
    (
        "2026-12-05-000017_packed_progress",
        "progress_snapshots.body",
    ),
    (
        "2026-12-05-000017_packed_progress",
        "progress_snapshots.packed_body: new required column without a default",
    ),
];

/// Rules added to existing tables that constrain only columns added in the same step (which
/// the previous release never writes), so that its writes still pass.
const SAFE_RULES: &[(&str, &str)] = &[
    // Staff notifications: a new user_id column with its reference, a unique index over rows
    // that have one, and a check that a row has a learner or a user — which every row the
    // previous release writes (a learner, no user) passes.
    (
        STAFF,
        "notification_outbox: new notification_outbox_user_id_fkey",
    ),
    (
        STAFF,
        "notification_outbox: new notification_outbox_user_event",
    ),
    (
        STAFF,
        "notification_outbox: new notification_outbox_one_recipient",
    ),
    (STAFF, "inbox_messages: new inbox_messages_user_id_fkey"),
    (STAFF, "inbox_messages: new inbox_messages_one_recipient"),
];
const STAFF: &str = "2026-11-29-000009_staff_notifications";

#[derive(QueryableByName, Debug)]
struct ColumnRow {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
    #[diesel(sql_type = Integer)]
    required: i32,
    #[diesel(sql_type = Nullable<Text>)]
    default_value: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
struct Column {
    data_type: String,
    required: bool,
    has_default: bool,
}

/// Each table's columns, and its rules — unique indexes, checks, references — as entries named
/// `rule:<name>`: a rule added to a table the old code writes can refuse its writes.
type Schema = BTreeMap<String, BTreeMap<String, Column>>;

const RULE: &str = "rule:";

fn schema_of(rows: Vec<ColumnRow>) -> Schema {
    let mut schema = Schema::new();
    for row in rows {
        if row.table_name.starts_with("__diesel") || row.table_name.starts_with("sqlite_") {
            continue;
        }
        schema.entry(row.table_name).or_default().insert(
            row.column_name,
            Column {
                data_type: row.data_type.to_lowercase(),
                required: row.required != 0,
                has_default: row.default_value.is_some(),
            },
        );
    }
    schema
}

/// What applying one migration did that a replica of the previous release could trip over.
fn breaks(before: &Schema, after: &Schema) -> Vec<String> {
    let mut found = Vec::new();
    for (table, columns) in before {
        let Some(now) = after.get(table) else {
            found.push(format!("{table}: table removed"));
            continue;
        };
        for (name, was) in columns {
            if name.starts_with(RULE) {
                continue; // a rule removed only relaxes
            }
            match now.get(name) {
                None => found.push(format!("{table}.{name}")),
                Some(is) if is.data_type != was.data_type => found.push(format!("{table}.{name}")),
                Some(is) if is.required && !was.required && !is.has_default => {
                    found.push(format!("{table}.{name}"))
                }
                _ => {}
            }
        }
        for (name, is) in now {
            if !columns.contains_key(name) && name.starts_with(RULE) {
                found.push(format!("{table}: new {}", &name[RULE.len()..]));
            } else if !columns.contains_key(name) && is.required && !is.has_default {
                found.push(format!(
                    "{table}.{name}: new required column without a default"
                ));
            }
        }
    }
    found
}

fn check_each_step<C>(conn: &mut C, source: EmbeddedMigrations, read: impl Fn(&mut C) -> Schema)
where
    C: MigrationHarness<<C as Connection>::Backend> + Connection,
{
    let mut before = read(conn);
    let mut steps = 0;
    let mut undeclared = Vec::new();
    for next in conn.pending_migrations(source).unwrap() {
        let name = next.name().to_string();
        conn.run_migration(next.as_ref()).unwrap();
        let after = read(conn);
        let declared: Vec<String> = CONTRACTS
            .iter()
            .chain(SAFE_RULES)
            .filter(|(migration, _)| *migration == name)
            .map(|(_, what)| what.to_string())
            .collect();
        undeclared.extend(
            breaks(&before, &after)
                .into_iter()
                .filter(|b| !declared.contains(b))
                .map(|b| format!("{name}: {b}")),
        );
        before = after;
        steps += 1;
    }
    assert!(
        undeclared.is_empty(),
        "steps that remove or change what the previous release uses, or add a rule its writes \
         may break: split each into an expand step now and a contract step a release later, or \
         (a rule over new columns only) list it in SAFE_RULES (docs/operations.md, \
         \"Upgrades\"):\n{}",
        undeclared.join("\n")
    );
    assert!(steps > 20, "every migration was applied one at a time");
}

#[test]
fn every_migration_only_expands_unless_declared_a_contract_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("steps.db");
    let mut conn = SqliteConnection::establish(&path.to_string_lossy()).unwrap();
    check_each_step(&mut conn, SQLITE, |conn| {
        schema_of(
            diesel::sql_query(
                "SELECT m.name AS table_name, p.name AS column_name, p.type AS data_type, \
                 p.\"notnull\" AS required, p.dflt_value AS default_value \
                 FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table' \
                 UNION ALL SELECT tbl_name, 'rule:' || name, 'unique index', 0, NULL \
                 FROM sqlite_master WHERE type = 'index' AND sql LIKE 'CREATE UNIQUE%'",
            )
            .load(conn)
            .unwrap(),
        )
    });
}

#[test]
fn every_migration_only_expands_unless_declared_a_contract_on_postgres() {
    let Some(scratch) = crate::helpers::scratch_postgres("skillpath_steps") else {
        eprintln!("skipped: the PostgreSQL migration steps need TEST_DATABASE_URL");
        return;
    };
    let url = scratch.url.clone();
    {
        let mut conn = PgConnection::establish(&url).unwrap();
        check_each_step(&mut conn, POSTGRES, |conn| {
            schema_of(
                diesel::sql_query(
                    "SELECT table_name::text AS table_name, column_name::text AS column_name, \
                     data_type::text AS data_type, \
                     CASE is_nullable WHEN 'NO' THEN 1 ELSE 0 END AS required, \
                     column_default::text AS default_value \
                     FROM information_schema.columns WHERE table_schema = current_schema() \
                     UNION ALL SELECT tablename::text, 'rule:' || indexname::text, 'unique index', \
                     0, NULL FROM pg_indexes WHERE schemaname = current_schema() \
                     AND indexdef LIKE 'CREATE UNIQUE%' \
                     UNION ALL SELECT conrelid::regclass::text, 'rule:' || conname::text, \
                     'constraint', 0, NULL FROM pg_constraint \
                     WHERE connamespace = current_schema()::regnamespace AND contype IN ('c', 'f')",
                )
                .load(conn)
                .unwrap(),
            )
        });
    }
}

#[test]
fn breaking_steps_are_recognised() {
    let column = |data_type: &str, required: bool| Column {
        data_type: data_type.into(),
        required,
        has_default: false,
    };
    let before: Schema = [(
        "t".to_string(),
        [
            ("a".to_string(), column("text", false)),
            ("b".to_string(), column("integer", false)),
            ("c".to_string(), column("text", false)),
        ]
        .into(),
    )]
    .into();
    let after: Schema = [(
        "t".to_string(),
        [
            ("a".to_string(), column("text", true)),
            ("b".to_string(), column("text", false)),
            ("d".to_string(), column("text", true)),
            ("e".to_string(), column("text", false)),
        ]
        .into(),
    )]
    .into();
    assert_eq!(
        breaks(&before, &after),
        vec![
            "t.a",
            "t.b",
            "t.c",
            "t.d: new required column without a default"
        ]
    );
    assert!(breaks(&after, &after).is_empty());
    // A rule added to a table is reported; one removed only relaxes.
    let with_rule = |rule: &str| -> Schema {
        [(
            "t".to_string(),
            [
                ("a".to_string(), column("text", false)),
                (format!("{RULE}{rule}"), column("unique index", false)),
            ]
            .into(),
        )]
        .into()
    };
    assert_eq!(
        breaks(&with_rule("old_one"), &with_rule("t_a_unique")),
        vec!["t: new t_a_unique"]
    );
}

/// Processes started together on a new SQLite file (a `serve` and a `worker` under systemd)
/// take turns migrating it: each of them succeeds.
#[test]
fn processes_starting_together_on_a_new_sqlite_file_take_turns_migrating() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("new.db");
    let children: Vec<std::process::Child> = (0..4)
        .map(|_| {
            std::process::Command::new(env!("CARGO_BIN_EXE_skillpath"))
                .arg("migrate")
                .env_clear()
                .env("DATABASE_URL", &database)
                .env(
                    "SKILLPATH_JWT_SECRET",
                    "a jwt secret long enough for the tests here",
                )
                .env(
                    "SKILLPATH_DATA_KEY",
                    "a data key long enough for the tests here too",
                )
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
