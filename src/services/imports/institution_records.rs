//! CSV imports of the records an institution's targets are counted from (policy 四, annex):
//! training deliveries, each year's teachers, teacher development, partnerships. As cohorts
//! are: UTF-8 or GBK, English or Chinese headers, a row report with each problem's line and
//! field, all-or-nothing unless `partial`. A row passes the checks a record entered alone
//! passes; the import is one audit entry.

use std::collections::HashSet;

use chrono::NaiveDate;
use serde_json::json;

use super::csv::{self as import, Column, CsvUpload, ImportReport, Rejections};
use crate::auth::{scope, AuthUser};
use crate::db::institution_records as records;
use crate::db::partnerships::{self, NewPartnership};
use crate::db::{self, audit, institutions, DbConnection};
use crate::domain::checks::Checks;
use crate::domain::{
    AuditAction, AuditEntity, DeliveryKind, DevelopmentKind, InstitutionId, PartnerKind, SkillLevel,
};
use crate::error::AppError;
use crate::services::targets::{self, DeliveryForm, DevelopmentForm, TeacherForm};

crate::string_enum! {
    /// Which records a file holds.
    RecordFile {
        TrainingDeliveries => "training_deliveries",
        Teachers => "teachers",
        TeacherDevelopment => "teacher_development",
        Partnerships => "partnerships",
    }
}

const fn column(name: &'static str, aliases: &'static [&'static str], required: bool) -> Column {
    Column {
        name,
        aliases,
        required,
    }
}

const DELIVERY_COLUMNS: &[Column] = &[
    column("delivered_on", &["日期", "结束日期", "完成日期"], true),
    column("kind", &["类型", "培训或评价"], true),
    column("occupation_code", &["职业编码"], true),
    column("level", &["等级", "技能等级"], true),
    column("person_times", &["人次"], true),
    column("note", &["备注", "说明"], false),
];

const TEACHER_COLUMNS: &[Column] = &[
    column("year", &["年度", "年份"], true),
    column("staff_number", &["工号", "教师编号"], true),
    column("name", &["姓名"], true),
    column("dual_qualified", &["双师型"], true),
    column("integrated", &["一体化"], true),
];

const DEVELOPMENT_COLUMNS: &[Column] = &[
    column("held_on", &["日期", "结束日期"], true),
    column("kind", &["类型"], true),
    column("person_times", &["人次"], true),
    column("description", &["内容", "说明"], true),
];

const PARTNERSHIP_COLUMNS: &[Column] = &[
    column("partner_name", &["合作单位", "单位名称"], true),
    column("partner_kind", &["类型", "单位类型"], true),
    column("started_on", &["开始日期", "起始日期"], true),
    column("ended_on", &["结束日期", "终止日期"], false),
    column("agreement_ref", &["协议编号", "协议"], false),
];

/// A value by its English name or as Chinese spreadsheets write it.
fn choice<T: std::str::FromStr<Err = String> + Copy>(
    value: &str,
    chinese: &[(&str, T)],
) -> Result<T, String> {
    chinese
        .iter()
        .find(|(zh, _)| *zh == value.trim())
        .map(|(_, v)| Ok(*v))
        .unwrap_or_else(|| value.trim().parse::<T>())
}

fn level(value: &str) -> Result<SkillLevel, String> {
    SkillLevel::ALL
        .iter()
        .copied()
        .find(|l| l.name_zh() == value.trim())
        .map_or_else(|| value.trim().parse(), Ok)
}

fn whole(value: &str) -> Result<i32, String> {
    value
        .trim()
        .parse::<i32>()
        .map_err(|_| format!("'{}' is not a whole number", value.trim()))
}

/// Reads the file into the institution's records of `file`'s kind, in one transaction.
pub fn import_records(
    conn: &mut DbConnection,
    caller: &AuthUser,
    institution_id: InstitutionId,
    file: RecordFile,
    mut upload: CsvUpload,
    partial: bool,
    today: NaiveDate,
) -> Result<ImportReport, AppError> {
    scope::require_acting_for(caller, institution_id)?;
    institutions::find(conn, institution_id)?.ok_or(AppError::NotFound {
        what: "institution",
    })?;
    let known = match file {
        RecordFile::TrainingDeliveries => DELIVERY_COLUMNS,
        RecordFile::Teachers => TEACHER_COLUMNS,
        RecordFile::TeacherDevelopment => DEVELOPMENT_COLUMNS,
        RecordFile::Partnerships => PARTNERSHIP_COLUMNS,
    };
    let columns = upload.columns(known)?;
    let mut report = ImportReport::new(upload.encoding, partial);
    let mut rejected = Rejections::default();
    let mut teachers_seen: HashSet<(i32, String)> =
        records::teachers(conn, institution_id, 2000, 2100)?
            .into_iter()
            .map(|t| (t.year, t.staff_number))
            .collect();
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
        let cell = |name: &str| columns.get(&record, name).unwrap_or_default();
        let mut checks = Checks::new();
        match file {
            RecordFile::TrainingDeliveries => {
                let delivered_on =
                    checks.with("delivered_on", import::parse_date(cell("delivered_on")));
                // Each cell read is checked as a delivery entered alone is, in column order.
                if let Some(day) = delivered_on {
                    targets::check_dated(&mut checks, "delivered_on", day, today);
                }
                let kind = checks.with(
                    "kind",
                    choice(
                        cell("kind"),
                        &[
                            ("培训", DeliveryKind::Training),
                            ("评价", DeliveryKind::Assessment),
                        ],
                    ),
                );
                let code = checks
                    .with(
                        "occupation_code",
                        crate::domain::OccupationCode::parse(cell("occupation_code")),
                    )
                    .map(crate::domain::OccupationCode::into_inner);
                if let Some(code) = &code {
                    targets::check_occupation(conn, &mut checks, code)?;
                }
                let level = checks.with("level", level(cell("level")));
                let person_times = checks.with("person_times", whole(cell("person_times")));
                if let Some(n) = person_times {
                    targets::check_person_times(&mut checks, n);
                }
                let note = checks.optional_text("note", columns.get(&record, "note"), 500);
                let form = (|| {
                    Some(DeliveryForm {
                        delivered_on: delivered_on?,
                        kind: kind?,
                        occupation_code: code.clone()?,
                        level: level?,
                        person_times: person_times?,
                        note,
                    })
                })();
                let Some(form) = accept(&mut rejected, line, checks, || form) else {
                    continue;
                };
                targets::insert_delivery(conn, institution_id, &form, caller.id)?;
            }
            RecordFile::Teachers => {
                let year = checks.with("year", whole(cell("year")));
                let staff_number = checks.text("staff_number", cell("staff_number"), 50);
                let name = checks.text("name", cell("name"), 100);
                let dual =
                    checks.with("dual_qualified", import::parse_flag(cell("dual_qualified")));
                let integrated = checks.with("integrated", import::parse_flag(cell("integrated")));
                let form = (|| {
                    Some(TeacherForm {
                        year: year?,
                        staff_number: staff_number?,
                        name: name?,
                        dual_qualified: dual?,
                        integrated: integrated?,
                    })
                })();
                if let Some(form) = &form {
                    targets::check_teacher(&mut checks, form);
                    // Checked before the insert: on PostgreSQL a refused insert would end the
                    // transaction, and with it the report.
                    checks.ensure(
                        !teachers_seen.contains(&(form.year, form.staff_number.clone())),
                        "staff_number",
                        format!(
                            "{} is already recorded for {} (in the file or before)",
                            form.staff_number, form.year
                        ),
                    );
                }
                let Some(form) = accept(&mut rejected, line, checks, || form) else {
                    continue;
                };
                targets::insert_teacher(conn, institution_id, &form, caller.id)?;
                teachers_seen.insert((form.year, form.staff_number));
            }
            RecordFile::TeacherDevelopment => {
                let held_on = checks.with("held_on", import::parse_date(cell("held_on")));
                if let Some(day) = held_on {
                    targets::check_dated(&mut checks, "held_on", day, today);
                }
                let kind = checks.with(
                    "kind",
                    choice(
                        cell("kind"),
                        &[
                            ("师资培训", DevelopmentKind::TeacherTraining),
                            ("企业实践", DevelopmentKind::EnterprisePractice),
                        ],
                    ),
                );
                let person_times = checks.with("person_times", whole(cell("person_times")));
                if let Some(n) = person_times {
                    targets::check_person_times(&mut checks, n);
                }
                let description = checks.text("description", cell("description"), 500);
                let form = (|| {
                    Some(DevelopmentForm {
                        held_on: held_on?,
                        kind: kind?,
                        person_times: person_times?,
                        description: description?,
                    })
                })();

                let Some(form) = accept(&mut rejected, line, checks, || form) else {
                    continue;
                };
                targets::insert_development(conn, institution_id, &form, caller.id)?;
            }
            RecordFile::Partnerships => {
                let partner_name = checks.text("partner_name", cell("partner_name"), 200);
                let partner_kind = checks.with(
                    "partner_kind",
                    choice(
                        cell("partner_kind"),
                        &[
                            ("企业", PartnerKind::Enterprise),
                            ("院校", PartnerKind::College),
                        ],
                    ),
                );
                let started_on = checks.with("started_on", import::parse_date(cell("started_on")));
                let ended_on = columns
                    .get(&record, "ended_on")
                    .and_then(|v| checks.with("ended_on", import::parse_date(v)));
                checks.ordered("ended_on", started_on, ended_on, "started_on");
                for (field, day) in [("started_on", started_on), ("ended_on", ended_on)] {
                    if let Some(day) = day {
                        crate::domain::checks::plausible_date(&mut checks, field, day);
                    }
                }
                let agreement_ref = checks.optional_text(
                    "agreement_ref",
                    columns.get(&record, "agreement_ref"),
                    200,
                );
                let Some((partner_name, partner_kind, started_on)) =
                    accept(&mut rejected, line, checks, || {
                        Some((partner_name?, partner_kind?, started_on?))
                    })
                else {
                    continue;
                };
                partnerships::insert(
                    conn,
                    &NewPartnership {
                        institution_id,
                        partner_name: &partner_name,
                        partner_kind,
                        partner_institution_id: None,
                        started_on,
                        ended_on,
                        agreement_ref: agreement_ref.as_deref(),
                        created_at: now,
                        updated_at: now,
                    },
                )?;
            }
        }
        report.created += 1;
    }
    let report = report.finish(rejected)?;
    audit::record(
        conn,
        Some(caller.id),
        AuditAction::Import,
        AuditEntity::InstitutionRecord,
        institution_id,
        &json!({"records": file, "rows": report.rows_read, "created": report.created, "rejected": report.rejected_count}),
    )?;
    Ok(report)
}

/// The row's values when its checks passed; otherwise its problems are reported with its line.
fn accept<T>(
    rejected: &mut Rejections,
    line: u64,
    checks: Checks,
    build: impl FnOnce() -> Option<T>,
) -> Option<T> {
    match checks.done(build) {
        Ok(value) => Some(value),
        Err(AppError::Validation(errors)) => {
            rejected.push_all(line, errors);
            None
        }
        Err(_) => {
            rejected.push(line, "row", "could not be read");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_in_english_or_as_chinese_spreadsheets_write_them() {
        assert_eq!(level("高级工"), Ok(SkillLevel::SeniorWorker));
        assert_eq!(level("technician"), Ok(SkillLevel::Technician));
        assert!(level("高级").is_err());
        let kinds = [
            ("培训", DeliveryKind::Training),
            ("评价", DeliveryKind::Assessment),
        ];
        assert_eq!(choice("评价", &kinds), Ok(DeliveryKind::Assessment));
        assert_eq!(choice(" training ", &kinds), Ok(DeliveryKind::Training));
        assert!(choice("考试", &kinds).is_err());
        assert_eq!(whole(" 200 "), Ok(200));
        assert!(whole("3.5").is_err());
    }
}
