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
use crate::db::institution_records::{
    self as records, NewDelivery, NewDevelopment, NewTeacherYear,
};
use crate::db::partnerships::{self, NewPartnership};
use crate::db::{self, audit, institutions, occupations, DbConnection};
use crate::domain::checks::Checks;
use crate::domain::{
    AuditAction, AuditEntity, DeliveryKind, DevelopmentKind, InstitutionId, PartnerKind, SkillLevel,
};
use crate::error::AppError;

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

fn whole(value: &str, range: std::ops::RangeInclusive<i32>) -> Result<i32, String> {
    value
        .trim()
        .parse::<i32>()
        .ok()
        .filter(|n| range.contains(n))
        .ok_or_else(|| {
            format!(
                "must be a whole number from {} to {}",
                range.start(),
                range.end()
            )
        })
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
        let not_ahead = |checks: &mut Checks, field: &str| {
            let day = checks.with(field, import::parse_date(cell(field)));
            if let Some(day) = day {
                if day > today {
                    checks.add(field, "must not be after today");
                } else {
                    crate::domain::checks::plausible_date(checks, field, day);
                }
            }
            day
        };
        match file {
            RecordFile::TrainingDeliveries => {
                let delivered_on = not_ahead(&mut checks, "delivered_on");
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
                let code = checks.with(
                    "occupation_code",
                    crate::domain::OccupationCode::parse(cell("occupation_code")),
                );
                let level = checks.with("level", level(cell("level")));
                let person_times =
                    checks.with("person_times", whole(cell("person_times"), 1..=100_000));
                let note = checks.optional_text("note", columns.get(&record, "note"), 500);
                if let Some(code) = &code {
                    checks.ensure(
                        !occupations::existing(conn, &[code.as_str().to_owned()])?.is_empty(),
                        "occupation_code",
                        format!("{code} is not in the occupation catalog"),
                    );
                }
                let Some(row) = accept(&mut rejected, line, checks, || {
                    Some((delivered_on?, kind?, code?, level?, person_times?))
                }) else {
                    continue;
                };
                let (delivered_on, kind, code, level, person_times) = row;
                records::insert_delivery(
                    conn,
                    &NewDelivery {
                        institution_id,
                        delivered_on,
                        kind,
                        occupation_code: code.as_str(),
                        level,
                        person_times,
                        note: note.as_deref(),
                        created_by: Some(caller.id),
                        created_at: now,
                    },
                )?;
            }
            RecordFile::Teachers => {
                let year = checks.with("year", whole(cell("year"), 2000..=2100));
                let staff_number = checks.text("staff_number", cell("staff_number"), 50);
                let name = checks.text("name", cell("name"), 100);
                let dual =
                    checks.with("dual_qualified", import::parse_flag(cell("dual_qualified")));
                let integrated = checks.with("integrated", import::parse_flag(cell("integrated")));
                if let (Some(year), Some(number)) = (year, &staff_number) {
                    checks.ensure(
                        !teachers_seen.contains(&(year, number.clone())),
                        "staff_number",
                        format!("{number} is already recorded for {year} (in the file or before)"),
                    );
                }
                let Some((year, number, name, dual, integrated)) =
                    accept(&mut rejected, line, checks, || {
                        Some((year?, staff_number?, name?, dual?, integrated?))
                    })
                else {
                    continue;
                };
                records::insert_teacher_year(
                    conn,
                    &NewTeacherYear {
                        institution_id,
                        year,
                        staff_number: &number,
                        name: &name,
                        dual_qualified: dual,
                        integrated,
                        created_by: Some(caller.id),
                        created_at: now,
                    },
                )?;
                teachers_seen.insert((year, number));
            }
            RecordFile::TeacherDevelopment => {
                let held_on = not_ahead(&mut checks, "held_on");
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
                let person_times =
                    checks.with("person_times", whole(cell("person_times"), 1..=100_000));
                let description = checks.text("description", cell("description"), 500);
                let Some((held_on, kind, person_times, description)) =
                    accept(&mut rejected, line, checks, || {
                        Some((held_on?, kind?, person_times?, description?))
                    })
                else {
                    continue;
                };
                records::insert_development(
                    conn,
                    &NewDevelopment {
                        institution_id,
                        held_on,
                        kind,
                        person_times,
                        description: &description,
                        created_by: Some(caller.id),
                        created_at: now,
                    },
                )?;
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
        assert_eq!(whole("200", 1..=100_000), Ok(200));
        assert!(whole("0", 1..=100_000).is_err());
        assert!(whole("3.5", 1..=100_000).is_err());
    }
}
