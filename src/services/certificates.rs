//! Certificates through their life: an evaluator's decision, with its record, its notices (to
//! the learner, and on revocation to the HR staff who relied on it), the milestones it moves
//! and its audit entry, in one transaction.

use serde_json::json;

use crate::db::audit;
use crate::db::certificates::{self, CertificateRow, NewDecision};
use crate::db::{self, learners, DbConnection};
use crate::domain::{AuditAction, AuditEntity, CertificateStatus, Decision, SkillLevel};
use crate::error::{parse_stored, AppError};
use crate::notify::{self, Category, Notice, NoticeKind, Recipient};

/// `decision` on certificate `id` by `actor`, for `reason`. Run inside a write transaction.
pub fn decide(
    conn: &mut DbConnection,
    actor: i64,
    id: i64,
    decision: Decision,
    reason: &str,
) -> Result<CertificateRow, AppError> {
    let row = certificates::find(conn, id)?.ok_or(AppError::NotFound {
        what: "certificate",
    })?;
    let from: CertificateStatus = parse_stored(&row.status)?;
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
            decision: decision.as_str(),
            from_status: from.as_str(),
            to_status: to.as_str(),
            reason,
            decided_by: actor,
            decided_at: now,
        },
    )?;
    let learner =
        learners::find(conn, row.learner_id)?.ok_or(AppError::NotFound { what: "learner" })?;
    let level: SkillLevel = parse_stored(&row.level)?;
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
