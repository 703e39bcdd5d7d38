//! The occupation catalog: one occupation added, or many from a CSV file (rows matched by code,
//! new codes created, changed rows updated in place); a change queues the recomputation of every
//! learner's milestones.

use std::collections::HashMap;

use serde_json::json;

use crate::db::occupations::{self, OccupationRow};
use crate::db::{self, audit, DbConnection};
use crate::domain::{checks::Checks, AuditAction, AuditEntity, OccupationCode, UserId};
use crate::error::AppError;
use crate::services::imports::csv::{self as import, Column, CsvUpload, ImportReport, Rejections};
use crate::services::jobs::{self, Job};

/// Adds one occupation (its fields checked by [`check_occupation`]). Run inside a write
/// transaction.
pub fn add_occupation(
    conn: &mut DbConnection,
    actor: UserId,
    row: &OccupationRow,
) -> Result<(), AppError> {
    if occupations::find(conn, &row.code)?.is_some() {
        return Err(AppError::conflict(
            "occupation_exists",
            "An occupation with this code exists.",
        ));
    }
    occupations::insert(conn, row)?;
    audit::record(
        conn,
        Some(actor),
        AuditAction::Create,
        AuditEntity::Occupation,
        &row.code,
        &json!({"name": row.name}),
    )?;
    jobs::enqueue(
        conn,
        &Job::RecomputeAll {
            reason: "occupation added".into(),
        },
    )?;
    Ok(())
}

/// Checks an occupation's fields, naming each problem.
pub fn check_occupation(
    checks: &mut Checks,
    code: &str,
    name: &str,
    source: &str,
) -> (Option<OccupationCode>, Option<String>, Option<String>) {
    let code = checks.with("code", OccupationCode::parse(code));
    let name = checks.text("name", name, 200);
    let source = checks.text("source", source, 200);
    (code, name, source)
}

const OCCUPATION_COLUMNS: &[Column] = &[
    Column {
        name: "code",
        aliases: &["职业编码", "职业代码", "编码", "代码"],
        required: true,
    },
    Column {
        name: "name",
        aliases: &["职业名称", "名称", "职业(工种)名称"],
        required: true,
    },
    Column {
        name: "high_skill_catalog",
        aliases: &["高技能人才目录", "高技能人才职业工种目录"],
        required: false,
    },
    Column {
        name: "technician_catalog",
        aliases: &["技师目录", "技师、高级技师职业工种目录"],
        required: false,
    },
    Column {
        name: "priority_industry",
        aliases: &["重点产业紧缺", "本市重点产业紧缺急需"],
        required: false,
    },
    Column {
        name: "source",
        aliases: &["来源", "出处"],
        required: false,
    },
];

/// Reads the occupation CSV and upserts by code inside one transaction.
pub fn import_occupations(
    conn: &mut DbConnection,
    mut upload: CsvUpload,
    partial: bool,
    default_source: &str,
    actor: UserId,
) -> Result<ImportReport, AppError> {
    let mut report = ImportReport::new(upload.encoding, partial);
    let mut rejected = Rejections::default();
    let columns = upload.columns(OCCUPATION_COLUMNS)?;
    let mut first_seen: HashMap<String, u64> = HashMap::new();
    let now = db::now();
    for record in upload.reader.records() {
        report.rows_read += 1;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                rejected.push(line, "row", format!("unreadable row: {e}"));
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        if !columns.fits(&record, line, &mut rejected) {
            continue;
        }
        let mut row_errors = Vec::new();
        let mut flag = |column: &str| match columns.get(&record, column) {
            None => false,
            Some(v) => import::parse_flag(v).unwrap_or_else(|m| {
                row_errors.push((column.to_owned(), m));
                false
            }),
        };
        let (high, tech, priority) = (
            flag("high_skill_catalog"),
            flag("technician_catalog"),
            flag("priority_industry"),
        );
        let mut checks = Checks::new();
        let (code, name, source) = check_occupation(
            &mut checks,
            columns.get(&record, "code").unwrap_or_default(),
            columns.get(&record, "name").unwrap_or_default(),
            columns.get(&record, "source").unwrap_or(default_source),
        );
        let row = match checks.done(|| {
            Some(OccupationRow {
                code: code?.into_inner(),
                name: name?,
                high_skill_catalog: high,
                technician_catalog: tech,
                priority_industry: priority,
                source: source?,
                created_at: now,
                updated_at: now,
            })
        }) {
            Ok(row) if row_errors.is_empty() => row,
            Ok(_) => {
                for (field, message) in row_errors {
                    rejected.push(line, &field, message);
                }
                continue;
            }
            Err(AppError::Validation(errors)) => {
                let flags = row_errors
                    .into_iter()
                    .map(|(f, m)| crate::error::FieldError::new(f, m));
                rejected.push_all(line, errors.into_iter().chain(flags));
                continue;
            }
            Err(other) => return Err(other),
        };
        if let Some(first) = first_seen.get(&row.code) {
            rejected.push(
                line,
                "code",
                format!("{} appears again (first on line {first})", row.code),
            );
            continue;
        }
        first_seen.insert(row.code.clone(), line);
        match occupations::find(conn, &row.code)? {
            None => {
                occupations::insert(conn, &row)?;
                report.created += 1;
            }
            Some(existing) if existing.same_facts(&row) => report.unchanged += 1,
            Some(_) => {
                occupations::update_facts(conn, &row)?;
                report.updated += 1;
            }
        }
    }
    let report = report.finish(rejected)?;
    audit::record(
        conn,
        Some(actor),
        AuditAction::Import,
        AuditEntity::Occupation,
        "*",
        &json!({"rows": report.rows_read, "created": report.created, "updated": report.updated, "rejected": report.rejected_count}),
    )?;
    if report.created + report.updated > 0 {
        jobs::enqueue(
            conn,
            &Job::RecomputeAll {
                reason: "occupation catalog imported".into(),
            },
        )?;
    }
    Ok(report)
}
