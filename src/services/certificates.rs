//! Certificates through their life: a submission (checked against the learner, the catalog and
//! the register), an evaluator's decision, with its record, its notices (to
//! the learner, and on revocation to the HR staff who relied on it), the milestones it moves
//! and its audit entry, in one transaction.

use chrono::{Months, NaiveDate};
use serde_json::json;

use crate::auth::scope::require_learner;
use crate::auth::AuthUser;
use crate::db::audit;
use crate::db::certificates::{self, CertificateRow, NewCertificate, NewDecision};
use crate::db::{self, learners, DbConnection};
use crate::domain::checks::Checks;
use crate::domain::{
    certificate_number, today_in_shanghai, AuditAction, AuditEntity, CertificateId,
    CertificateKind, CertificateStatus, Decision, LearnerId, OccupationCode, SkillLevel, UserId,
};
use crate::error::AppError;
use crate::notify::{self, Category, Notice, NoticeKind, Recipient};

/// No one holds a skill certificate before this age (中职 pupils sit 初级工 from about 15).
const MIN_HOLDER_AGE_YEARS: u32 = 14;

/// A certificate as submitted, its fields checked one by one.
pub struct Submission {
    pub learner_id: LearnerId,
    /// Normalised (`certificate_number::normalise`).
    pub number: String,
    pub kind: CertificateKind,
    pub level: SkillLevel,
    pub occupation_code: String,
    pub issuer: String,
    pub issued_on: NaiveDate,
}

/// Records a submitted certificate, pending verification; the row and the learner's name. Run
/// inside a write transaction.
/// The earliest issue date each kind of certificate can plausibly carry: 职业资格证书 began
/// with the Labour Law's qualification system in 1994 (预备技师 certificates came later still);
/// 职业技能等级证书 were first issued when 职业技能等级认定 started in 2019.
fn earliest_issue_date(kind: CertificateKind) -> NaiveDate {
    let (y, m, d) = match kind {
        CertificateKind::VocationalQualification | CertificateKind::PreparatoryTechnician => {
            (1994, 1, 1)
        }
        CertificateKind::SkillLevel => (2019, 1, 1),
    };
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
}

impl Submission {
    /// A certificate as typed, checked field by field: a number (normalised, at most 40
    /// characters), a kind, a level, an occupation code, an issuer, and an issue date that is
    /// not in the future nor before such certificates existed.
    pub fn check(
        learner_id: LearnerId,
        number: &str,
        kind: &str,
        level: &str,
        occupation_code: &str,
        issuer: &str,
        issued_on: NaiveDate,
    ) -> Result<Submission, AppError> {
        let mut checks = Checks::new();
        let number = certificate_number::normalise(number);
        checks.ensure(!number.is_empty(), "number", "is required");
        checks.ensure(
            number.chars().count() <= 40,
            "number",
            "must be at most 40 characters",
        );
        let kind = checks.parse::<CertificateKind>("kind", kind);
        let level = checks.parse::<SkillLevel>("level", level);
        let code = checks.with("occupation_code", OccupationCode::parse(occupation_code));
        let issuer = checks.text("issuer", issuer, 200);
        checks.ensure(
            issued_on <= today_in_shanghai(),
            "issued_on",
            "must not be in the future",
        );
        if let Some(kind) = kind {
            let earliest = earliest_issue_date(kind);
            checks.ensure(
                issued_on >= earliest,
                "issued_on",
                format!("a {kind} certificate cannot be issued before {earliest}"),
            );
        }
        let (kind, level, occupation_code, issuer) =
            checks.done(|| Some((kind?, level?, code?.into_inner(), issuer?)))?;
        Ok(Submission {
            learner_id,
            number,
            kind,
            level,
            occupation_code,
            issuer,
            issued_on,
        })
    }
}

pub fn submit(
    conn: &mut DbConnection,
    caller: &AuthUser,
    s: Submission,
) -> Result<(CertificateRow, String), AppError> {
    let (format, warnings) = certificate_number::inspect(&s.number, s.level, s.issued_on);
    let warnings_json =
        serde_json::to_string(&warnings).map_err(|e| AppError::internal("warnings", e))?;
    let actor = caller.id;
    require_learner(conn, caller, s.learner_id)?;
    let learner =
        learners::find(conn, s.learner_id)?.ok_or(AppError::NotFound { what: "learner" })?;
    if let Some(birth) = learner.birth_date {
        let youngest = birth
            .checked_add_months(Months::new(12 * MIN_HOLDER_AGE_YEARS))
            .unwrap_or(birth);
        if s.issued_on < youngest {
            return Err(AppError::invalid(
                "issued_on",
                format!("is before the learner's {MIN_HOLDER_AGE_YEARS}th birthday ({youngest})"),
            ));
        }
    }
    super::occupation_catalog::require_occupation(conn, "occupation_code", &s.occupation_code)?;
    if certificates::find_by_number(conn, &s.number)?.is_some() {
        return Err(AppError::conflict(
            "certificate_exists",
            "A certificate with this number is already registered.",
        ));
    }
    let now = db::now();
    let row = certificates::insert(
        conn,
        &NewCertificate {
            learner_id: s.learner_id,
            number: s.number,
            number_format: format,
            kind: s.kind,
            level: s.level,
            occupation_code: s.occupation_code,
            issuer: s.issuer,
            issued_on: s.issued_on,
            status: CertificateStatus::Pending,
            warnings: warnings_json,
            submitted_by: Some(actor),
            created_at: now,
            updated_at: now,
        },
    )
    .map_err(|e| match AppError::from(e) {
        AppError::Conflict { .. } => AppError::conflict(
            "certificate_exists",
            "A certificate with this number is already registered.",
        ),
        other => other,
    })?;
    super::eligibility::refresh_now(conn, row.learner_id)?;
    audit::record(
        conn,
        Some(actor),
        AuditAction::Submit,
        AuditEntity::Certificate,
        row.id,
        &json!({"learner_id": row.learner_id, "number": row.number, "level": row.level, "occupation_code": row.occupation_code, "warnings": warnings.len()}),
    )?;
    Ok((row, learner.name))
}

/// `decision` on certificate `id` by `actor`, for `reason`. Run inside a write transaction.
/// An evaluator's decision as sent (`verify`, `reject` or `revoke`) and its reason, checked: the
/// reason is at most 1000 characters, and required to reject or revoke.
pub fn check_decision(decision: &str, reason: &str) -> Result<(Decision, String), AppError> {
    let mut checks = Checks::new();
    let decision = checks.parse::<Decision>("decision", decision);
    let reason = reason.trim().to_owned();
    checks.ensure(
        reason.chars().count() <= 1000,
        "reason",
        "must be at most 1000 characters",
    );
    if matches!(decision, Some(Decision::Reject | Decision::Revoke)) {
        checks.ensure(
            !reason.is_empty(),
            "reason",
            "is required to reject or revoke",
        );
    }
    let decision = checks.done(|| decision)?;
    Ok((decision, reason))
}

/// The certificates waiting for an evaluator, oldest first, after the cursor, each with its
/// learner's name.
pub fn pending(
    conn: &mut DbConnection,
    after: Option<i64>,
    limit: i64,
) -> Result<Vec<(CertificateRow, String)>, AppError> {
    let rows = certificates::list(conn, Some(CertificateStatus::Pending), None, after, limit)?;
    let ids: Vec<LearnerId> = rows.iter().map(|r| r.learner_id).collect();
    let names: std::collections::HashMap<LearnerId, String> = learners::find_many(conn, &ids)?
        .into_iter()
        .map(|l| (l.id, l.name))
        .collect();
    Ok(rows
        .into_iter()
        .map(|row| {
            let name = names.get(&row.learner_id).cloned().unwrap_or_default();
            (row, name)
        })
        .collect())
}

/// A certificate by its number as typed (full-width forms and spaces are the same number), with
/// its learner's name: what an evaluator looks up to revoke one.
pub fn by_number(
    conn: &mut DbConnection,
    typed: &str,
) -> Result<Option<(CertificateRow, String)>, AppError> {
    let number = crate::domain::certificate_number::normalise(typed);
    let Some(row) = certificates::find_by_number(conn, &number)? else {
        return Ok(None);
    };
    let name = learners::find(conn, row.learner_id)?
        .map(|l| l.name)
        .unwrap_or_default();
    Ok(Some((row, name)))
}

pub fn decide(
    conn: &mut DbConnection,
    actor: UserId,
    id: CertificateId,
    decision: Decision,
    reason: &str,
) -> Result<CertificateRow, AppError> {
    let row = certificates::find(conn, id)?.ok_or(AppError::NotFound {
        what: "certificate",
    })?;
    let from = row.status;
    let to = decision.apply(from).ok_or_else(|| {
        AppError::conflict(
            "invalid_transition",
            format!("A {from} certificate cannot be given the decision '{decision}'."),
        )
    })?;
    let now = db::now();
    if !certificates::transition(conn, id, from.as_str(), to.as_str(), now)? {
        return Err(AppError::conflict(
            "invalid_transition",
            "The certificate changed meanwhile; reload it.",
        ));
    }
    certificates::record_decision(
        conn,
        &NewDecision {
            certificate_id: id,
            decision,
            from_status: from,
            to_status: to,
            reason,
            decided_by: actor,
            decided_at: now,
        },
    )?;
    let learner =
        learners::find(conn, row.learner_id)?.ok_or(AppError::NotFound { what: "learner" })?;
    let level = row.level;
    let notice = Notice {
        recipient: Recipient::Learner(row.learner_id),
        email: learner.email.as_deref(),
        event_key: format!("certificate:{id}:{}", decision.as_str()),
        category: Category::Certificate,
        kind: NoticeKind::of_decision(decision),
        message: notify::messages::certificate_message(
            decision,
            &row.number,
            level.name_zh(),
            level.name_en(),
            reason,
        ),
        due_at: None,
        secret: None,
    };
    let mut notices = vec![notice];
    // A revocation reaches the HR staff who relied on the certificate.
    let relied = if decision == Decision::Revoke {
        super::sharing::relied_on(conn, row.learner_id, id, now)?
    } else {
        Vec::new()
    };
    for look in &relied {
        notices.push(Notice {
            recipient: Recipient::User(look.user_id),
            email: Some(&look.email),
            event_key: format!("certificate:{id}:revoke:relied"),
            category: Category::Certificate,
            kind: NoticeKind::ReliedRevoked,
            message: notify::messages::revoked_notice_message(
                &learner.name,
                level,
                &row.number,
                reason,
                look,
            ),
            due_at: None,
            secret: None,
        });
    }
    super::eligibility::refresh_now_with(conn, row.learner_id, notices)?;
    audit::record(
        conn,
        Some(actor),
        AuditAction::of_decision(decision),
        AuditEntity::Certificate,
        id,
        &json!({"from": from, "to": to, "reason": reason}),
    )?;
    certificates::find(conn, id)?.ok_or(AppError::NotFound {
        what: "certificate",
    })
}
