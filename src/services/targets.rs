//! An institution's yearly targets (policy 四, annex) counted from its records: training at 高级工
//! or above (四(一)), teacher development (四(二)), the share of 双师型 / 一体化 teachers rising year on
//! year (四(二)), stable partners (annex 一.2 / 二.2). Each figure comes with its threshold in force
//! for the year (a parameter with its period; none set: no verdict), whether it is met, the
//! records behind it, and, for the year in progress, where its pace leads by 31 December.

use chrono::{Datelike, NaiveDate};
use serde_json::json;

use crate::auth::{scope, AuthUser};
use crate::db::institution_records::{
    self as records, DeliveryRow, DevelopmentRow, NewDelivery, NewDevelopment, NewTeacherYear,
    TeacherYearRow,
};
use crate::db::institutions::{self, InstitutionRow};
use crate::db::notifications::Recipient;
use crate::db::{self, audit, DbConnection};
use crate::domain::checks::Checks;
use crate::domain::UserId;
use crate::domain::{
    AuditAction, AuditEntity, Category, DeliveryKind, DevelopmentKind, InstitutionId, NoticeKind,
    SkillLevel, TargetKind,
};
use crate::error::AppError;
use crate::notify::Notice;
use crate::rules::params::{ParameterValue, Parameters};
use crate::services::designations::stable_partners;
use crate::services::eligibility::parameters::{parameter_values, InForce};

/// One target's figure for a year.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    pub target: TargetKind,
    pub clause: &'static str,
    /// Person-times, a count, or a share (0–1); `None`: nothing recorded to count.
    pub value: Option<f64>,
    /// What the value must reach (or, for the share, exceed: the year before's); `None`: no
    /// threshold in force for the year, or no previous year to compare with.
    pub threshold: Option<f64>,
    pub met: Option<bool>,
    /// The year in progress: the value at this pace by 31 December.
    pub projection: Option<f64>,
    /// The ids of the records counted.
    pub records: Vec<i64>,
}

#[derive(Debug, Clone)]
pub struct Targets {
    pub institution: InstitutionRow,
    pub year: i32,
    /// The day the figures are counted to: 31 December, or today in the year in progress.
    pub as_of: NaiveDate,
    /// Whether a designation period overlaps the year (the targets bind designated institutions).
    pub designated: bool,
    pub figures: Vec<Figure>,
}

fn institution(conn: &mut DbConnection, id: InstitutionId) -> Result<InstitutionRow, AppError> {
    institutions::find(conn, id)?.ok_or(AppError::NotFound {
        what: "institution",
    })
}

/// The integer value of `name` in force on `day` in the stored values, if one is.
fn threshold(values: &[ParameterValue], name: &str, day: NaiveDate) -> Option<ParameterValue> {
    values
        .iter()
        .filter(|v| v.name == name && v.occupation_code.is_none() && v.in_force_on(day))
        .max_by_key(|v| v.effective_from)
        .cloned()
}

/// `value` carried to the year's end at the pace from 1 January to `as_of`.
pub fn projected(value: f64, as_of: NaiveDate) -> f64 {
    let days_in_year = if NaiveDate::from_ymd_opt(as_of.year(), 2, 29).is_some() {
        366.0
    } else {
        365.0
    };
    (value * days_in_year / f64::from(as_of.ordinal())).floor()
}

/// The targets of `year` for the institution, counted to `today` when the year is in progress.
pub fn targets(
    conn: &mut DbConnection,
    caller: &AuthUser,
    institution_id: InstitutionId,
    year: i32,
    today: NaiveDate,
) -> Result<Targets, AppError> {
    let mut years = over_years(conn, caller, institution_id, year..=year, today)?;
    years
        .pop()
        .ok_or_else(|| AppError::internal("targets", "a year counted nothing"))
}

/// The targets of each of `years` for the institution (the institution and the parameter
/// values read once for all of them).
pub fn over_years(
    conn: &mut DbConnection,
    caller: &AuthUser,
    institution_id: InstitutionId,
    years: std::ops::RangeInclusive<i32>,
    today: NaiveDate,
) -> Result<Vec<Targets>, AppError> {
    scope::require_acting_for(caller, institution_id)?;
    let institution = institution(conn, institution_id)?;
    let values = parameter_values(conn)?;
    years
        .map(|year| count(conn, &values, institution.clone(), year, today))
        .collect()
}

/// The city-wide table: the targets of `year` of every institution designated in it
/// (administrators).
pub fn city(
    conn: &mut DbConnection,
    caller: &AuthUser,
    year: i32,
    today: NaiveDate,
) -> Result<Vec<Targets>, AppError> {
    caller.require_admin()?;
    designated_in(conn, year, today)
}

fn designated_in(
    conn: &mut DbConnection,
    year: i32,
    today: NaiveDate,
) -> Result<Vec<Targets>, AppError> {
    let values = parameter_values(conn)?;
    let mut all = Vec::new();
    for institution in institutions::find_all(conn)? {
        let targets = count(conn, &values, institution, year, today)?;
        if targets.designated {
            all.push(targets);
        }
    }
    Ok(all)
}

/// Counts the targets of `year` for `institution` (the caller's scope was checked).
fn count(
    conn: &mut DbConnection,
    values: &[ParameterValue],
    institution: InstitutionRow,
    year: i32,
    today: NaiveDate,
) -> Result<Targets, AppError> {
    let institution_id = institution.id;
    let (Some(first), Some(last)) = (
        NaiveDate::from_ymd_opt(year, 1, 1),
        NaiveDate::from_ymd_opt(year, 12, 31),
    ) else {
        return Err(AppError::invalid("year", "is not a calendar year"));
    };
    if first > today {
        return Err(AppError::invalid("year", "has not begun"));
    }
    let in_progress = last > today;
    let as_of = if in_progress { today } else { last };
    // The thresholds in force at the year's end, as the dated ones are read.
    let params: std::sync::Arc<Parameters> = InForce::from_values(values, last).parameters;
    let designated = institutions::designations_of(conn, institution_id)?
        .iter()
        .any(|d| d.designated_from <= last && d.designated_until.is_none_or(|u| u >= first));
    let pace = |value: f64| in_progress.then(|| projected(value, as_of));
    let at_least = |value: f64, threshold: Option<f64>| threshold.map(|t| value >= t);
    let int_threshold = |name: &str| threshold(values, name, last).and_then(|v| v.value.as_f64());

    // A target summed in person-times over the records counted.
    let summed = |target, clause, counted: Vec<(i64, i32)>, name: &str| {
        // Summed wide: many rows of up to 100,000 each must not overflow.
        let value = counted.iter().map(|(_, n)| i64::from(*n)).sum::<i64>() as f64;
        let threshold = int_threshold(name);
        Figure {
            target,
            clause,
            value: Some(value),
            threshold,
            met: at_least(value, threshold),
            projection: pace(value),
            records: counted.into_iter().map(|(id, _)| id).collect(),
        }
    };
    // 四(一): training at 高级工 or above.
    let senior_training = summed(
        TargetKind::SeniorTraining,
        "四(一)",
        records::deliveries(conn, institution_id, first, as_of)?
            .into_iter()
            .filter(|d| d.kind == DeliveryKind::Training && d.level >= SkillLevel::SeniorWorker)
            .map(|d| (d.id.get(), d.person_times))
            .collect(),
        "sh489.kpi.senior_training_person_times",
    );
    // 四(二): teacher training and enterprise practice.
    let teacher_development = summed(
        TargetKind::TeacherDevelopment,
        "四(二)",
        records::development(conn, institution_id, first, as_of)?
            .into_iter()
            .map(|a| (a.id.get(), a.person_times))
            .collect(),
        "sh489.kpi.teacher_development_person_times",
    );

    // 四(二): the share of 双师型 or 一体化 teachers, above the year before's.
    let teachers = records::teachers(conn, institution_id, year - 1, year)?;
    let share = |y: i32| {
        let of_year: Vec<&TeacherYearRow> = teachers.iter().filter(|t| t.year == y).collect();
        let qualified = of_year
            .iter()
            .filter(|t| t.dual_qualified || t.integrated)
            .count();
        (!of_year.is_empty()).then(|| qualified as f64 / of_year.len() as f64)
    };
    let (this_year, last_year) = (share(year), share(year - 1));
    let must_rise = threshold(values, "sh489.kpi.dual_teacher_share_rising", last)
        .is_some_and(|v| v.value == json!(true));
    let dual_qualified_share = Figure {
        target: TargetKind::DualQualifiedShare,
        clause: "四(二)",
        value: this_year,
        threshold: last_year.filter(|_| must_rise),
        met: match (this_year, last_year) {
            // Every teacher qualified cannot rise further: kept, it is met.
            (Some(now), Some(before)) if must_rise => Some(now > before || now >= 1.0),
            _ => None,
        },
        projection: None,
        records: teachers
            .iter()
            .filter(|t| t.year == year)
            .map(|t| t.id.get())
            .collect(),
    };

    // Annex 一.2 / 二.2: stable partners on the year's last day (or today).
    let needed = f64::from(params.int(crate::param!("sh489.partnership.min_partners")));
    let stable: Vec<i64> = stable_partners(conn, &params, &institution, as_of)?
        .iter()
        .map(|p| p.id.get())
        .collect();
    let partners = stable.len() as f64;
    let stable_partners = Figure {
        target: TargetKind::StablePartners,
        clause: "附件 一.2 / 二.2",
        value: Some(partners),
        threshold: Some(needed),
        met: Some(partners >= needed),
        projection: None,
        records: stable,
    };

    Ok(Targets {
        institution,
        year,
        as_of,
        designated,
        figures: vec![
            senior_training,
            teacher_development,
            dual_qualified_share,
            stable_partners,
        ],
    })
}

/// Training or assessment delivered.
#[derive(Debug, Clone)]
pub struct DeliveryForm {
    pub delivered_on: NaiveDate,
    pub kind: DeliveryKind,
    pub occupation_code: String,
    pub level: SkillLevel,
    pub person_times: i32,
    pub note: Option<String>,
}

/// A teacher in a year, with their qualifications that year.
#[derive(Debug, Clone)]
pub struct TeacherForm {
    pub year: i32,
    pub staff_number: String,
    pub name: String,
    pub dual_qualified: bool,
    pub integrated: bool,
}

/// Teacher training or enterprise practice.
#[derive(Debug, Clone)]
pub struct DevelopmentForm {
    pub held_on: NaiveDate,
    pub kind: DevelopmentKind,
    pub person_times: i32,
    pub description: String,
}

/// Records say what happened: dated by the day it ended, not after today.
pub fn check_dated(checks: &mut Checks, field: &str, day: NaiveDate, today: NaiveDate) {
    if day > today {
        checks.add(field, "must not be after today");
    } else {
        crate::domain::checks::plausible_date(checks, field, day);
    }
}

pub fn check_person_times(checks: &mut Checks, value: i32) {
    checks.ensure(
        (1..=100_000).contains(&value),
        "person_times",
        "must be between 1 and 100000",
    );
}

/// What a delivery must be, entered alone or read from a file (each problem names its field).
fn check_delivery(
    conn: &mut DbConnection,
    checks: &mut Checks,
    form: &DeliveryForm,
    today: NaiveDate,
) -> Result<(), AppError> {
    // In the order of the file's columns.
    check_dated(checks, "delivered_on", form.delivered_on, today);
    check_occupation(conn, checks, &form.occupation_code)?;
    check_person_times(checks, form.person_times);
    Ok(())
}

pub fn check_occupation(
    conn: &mut DbConnection,
    checks: &mut Checks,
    code: &str,
) -> Result<(), AppError> {
    super::occupation_catalog::check_occupations(
        conn,
        checks,
        [("occupation_code".to_owned(), code)],
    )
}

/// What a teacher's year must be.
pub fn check_teacher(checks: &mut Checks, form: &TeacherForm) {
    checks.ensure(
        (2000..=2100).contains(&form.year),
        "year",
        "must be between 2000 and 2100",
    );
}

/// What a development activity must be.
fn check_development(checks: &mut Checks, form: &DevelopmentForm, today: NaiveDate) {
    check_dated(checks, "held_on", form.held_on, today);
    check_person_times(checks, form.person_times);
}

pub fn insert_delivery(
    conn: &mut DbConnection,
    institution_id: InstitutionId,
    form: &DeliveryForm,
    actor: UserId,
) -> Result<DeliveryRow, AppError> {
    Ok(records::insert_delivery(
        conn,
        &NewDelivery {
            institution_id,
            delivered_on: form.delivered_on,
            kind: form.kind,
            occupation_code: &form.occupation_code,
            level: form.level,
            person_times: form.person_times,
            note: form.note.as_deref(),
            created_by: Some(actor),
            created_at: db::now(),
        },
    )?)
}

pub fn insert_teacher(
    conn: &mut DbConnection,
    institution_id: InstitutionId,
    form: &TeacherForm,
    actor: UserId,
) -> Result<TeacherYearRow, AppError> {
    records::insert_teacher_year(
        conn,
        &NewTeacherYear {
            institution_id,
            year: form.year,
            staff_number: &form.staff_number,
            name: &form.name,
            dual_qualified: form.dual_qualified,
            integrated: form.integrated,
            created_by: Some(actor),
            created_at: db::now(),
        },
    )
    .map_err(AppError::unique_clash(
        "teacher_year_exists",
        "This staff number is already recorded for this year.",
    ))
}

pub fn insert_development(
    conn: &mut DbConnection,
    institution_id: InstitutionId,
    form: &DevelopmentForm,
    actor: UserId,
) -> Result<DevelopmentRow, AppError> {
    Ok(records::insert_development(
        conn,
        &NewDevelopment {
            institution_id,
            held_on: form.held_on,
            kind: form.kind,
            person_times: form.person_times,
            description: &form.description,
            created_by: Some(actor),
            created_at: db::now(),
        },
    )?)
}

/// The guard of every record use case: the caller acts for the institution, which exists.
fn acting_for(
    conn: &mut DbConnection,
    caller: &AuthUser,
    institution_id: InstitutionId,
) -> Result<(), AppError> {
    scope::require_acting_for(caller, institution_id)?;
    institution(conn, institution_id)?;
    Ok(())
}

fn audit_record(
    conn: &mut DbConnection,
    caller: &AuthUser,
    institution_id: InstitutionId,
    summary: serde_json::Value,
) -> Result<(), AppError> {
    audit::record(
        conn,
        Some(caller.id),
        AuditAction::Create,
        AuditEntity::InstitutionRecord,
        institution_id,
        &summary,
    )?;
    Ok(())
}

pub fn record_delivery(
    conn: &mut DbConnection,
    caller: &AuthUser,
    institution_id: InstitutionId,
    form: &DeliveryForm,
    today: NaiveDate,
) -> Result<DeliveryRow, AppError> {
    acting_for(conn, caller, institution_id)?;
    let mut checks = Checks::new();
    check_delivery(conn, &mut checks, form, today)?;
    checks.done(|| Some(()))?;
    let row = insert_delivery(conn, institution_id, form, caller.id)?;
    let summary =
        json!({"record": "training_delivery", "id": row.id, "person_times": row.person_times});
    audit_record(conn, caller, institution_id, summary)?;
    Ok(row)
}

pub fn record_teacher(
    conn: &mut DbConnection,
    caller: &AuthUser,
    institution_id: InstitutionId,
    form: &TeacherForm,
) -> Result<TeacherYearRow, AppError> {
    acting_for(conn, caller, institution_id)?;
    let mut checks = Checks::new();
    check_teacher(&mut checks, form);
    checks.done(|| Some(()))?;
    let row = insert_teacher(conn, institution_id, form, caller.id)?;
    let summary = json!({"record": "teacher_year", "id": row.id, "year": row.year});
    audit_record(conn, caller, institution_id, summary)?;
    Ok(row)
}

pub fn record_development(
    conn: &mut DbConnection,
    caller: &AuthUser,
    institution_id: InstitutionId,
    form: &DevelopmentForm,
    today: NaiveDate,
) -> Result<DevelopmentRow, AppError> {
    acting_for(conn, caller, institution_id)?;
    let mut checks = Checks::new();
    check_development(&mut checks, form, today);
    checks.done(|| Some(()))?;
    let row = insert_development(conn, institution_id, form, caller.id)?;
    let summary =
        json!({"record": "teacher_development", "id": row.id, "person_times": row.person_times});
    audit_record(conn, caller, institution_id, summary)?;
    Ok(row)
}

/// The deliveries recorded for a calendar year.
pub fn deliveries(
    conn: &mut DbConnection,
    caller: &AuthUser,
    institution_id: InstitutionId,
    year: i32,
) -> Result<Vec<DeliveryRow>, AppError> {
    acting_for(conn, caller, institution_id)?;
    let (first, last) = year_span(year)?;
    Ok(records::deliveries(conn, institution_id, first, last)?)
}

/// The teachers recorded for a year.
pub fn teachers(
    conn: &mut DbConnection,
    caller: &AuthUser,
    institution_id: InstitutionId,
    year: i32,
) -> Result<Vec<TeacherYearRow>, AppError> {
    acting_for(conn, caller, institution_id)?;
    Ok(records::teachers(conn, institution_id, year, year)?)
}

/// The development activities recorded for a calendar year.
pub fn development(
    conn: &mut DbConnection,
    caller: &AuthUser,
    institution_id: InstitutionId,
    year: i32,
) -> Result<Vec<DevelopmentRow>, AppError> {
    acting_for(conn, caller, institution_id)?;
    let (first, last) = year_span(year)?;
    Ok(records::development(conn, institution_id, first, last)?)
}

fn year_span(year: i32) -> Result<(NaiveDate, NaiveDate), AppError> {
    NaiveDate::from_ymd_opt(year, 1, 1)
        .zip(NaiveDate::from_ymd_opt(year, 12, 31))
        .ok_or_else(|| AppError::invalid("year", "is not a calendar year"))
}

/// After the third quarter (from the first day of `sh489.kpi.warn_from_month`, October), the notices to a designated institution's staff of
/// each target its pace leaves short by December: once per target and year (the event key), in
/// the inbox and by email. Run daily by the job queue; `day` is the day it runs for.
pub fn warn_at_risk(conn: &mut DbConnection, day: NaiveDate) -> Result<usize, AppError> {
    let from_month = InForce::read(conn, day)?
        .parameters
        .int(crate::param!("sh489.kpi.warn_from_month"));
    if day.month() < from_month {
        return Ok(0);
    }
    let mut notices = 0;
    for targets in designated_in(conn, day.year(), day)? {
        // Designated in the year, but no longer: its staff are not warned of targets it no
        // longer has.
        let holds_today = institutions::designations_of(conn, targets.institution.id)?
            .iter()
            .any(|d| d.designated_from <= day && d.designated_until.is_none_or(|u| u >= day));
        if !holds_today {
            continue;
        }
        let short: Vec<&Figure> = targets
            .figures
            .iter()
            .filter(|f| match (f.projection.or(f.value), f.threshold) {
                (Some(pace), Some(threshold)) if f.target != TargetKind::DualQualifiedShare => {
                    pace < threshold
                }
                _ => f.met == Some(false),
            })
            .collect();
        let staff = crate::db::users::staff_of(conn, targets.institution.id)?;
        let mut batch = Vec::new();
        for figure in short {
            let message = crate::notify::messages::target_at_risk_message(
                &targets.institution.name,
                targets.year,
                figure.target,
                figure.clause,
                figure.projection.or(figure.value),
                figure.threshold,
            );
            let event_key = format!(
                "targets:{}:{}:{}",
                targets.institution.id, targets.year, figure.target
            );
            batch.extend(staff.iter().map(|(user, email)| Notice {
                recipient: Recipient::User(*user),
                email: Some(email.as_str()),
                event_key: event_key.clone(),
                category: Category::Institution,
                kind: NoticeKind::TargetAtRisk,
                message: message.clone(),
                due_at: None,
                secret: None,
            }));
        }
        notices += batch.len();
        crate::notify::produce_many(conn, &batch, &Default::default(), db::now())?;
    }
    Ok(notices)
}

#[cfg(test)]
mod tests {
    use super::projected;

    #[test]
    fn the_pace_is_carried_to_the_year_end() {
        let d = |s: &str| s.parse().unwrap();
        // 120 person-times by 30 June 2026 (day 181 of 365): 241.99… → 241 by December.
        assert_eq!(projected(120.0, d("2026-06-30")), 241.0);
        assert_eq!(projected(0.0, d("2026-06-30")), 0.0);
        assert_eq!(projected(366.0, d("2028-12-31")), 366.0);
        assert_eq!(projected(1.0, d("2028-01-01")), 366.0);
    }
}
