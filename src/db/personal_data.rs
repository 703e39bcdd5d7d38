//! Every row about one learner, table by table: what a copy of their data holds (PIPL Art. 45).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::audit::AuditRow;
use super::calendar::{EntryRow, FeedRow};
use super::certificates::{CertificateRow, DecisionRow};
use super::corrections::CorrectionRow;
use super::learners::{KindChangeRow, LearnerRow};
use super::milestones::{EventRow, StoredMilestone};
use super::notifications::{InboxRow, OutboxRow};
use super::records::{AwardRow, EmploymentRow, EnrollmentRow};
use super::schema::{
    audit_log, certificate_decisions, correction_requests, inbox_messages, learner_milestones,
    milestone_events, notification_outbox, notification_preferences, share_accesses, shares, users,
};
use super::shares::{AccessRow, ShareRow};
use super::users::UserRow;
use super::DbConnection;
use crate::domain::{AuditEntity, LearnerId};

/// One learner's rows: each record in the order the service lists it (by date), the rest in id
/// (or key) order.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LearnerRows {
    pub learner: LearnerRow,
    pub kind_changes: Vec<KindChangeRow>,
    pub accounts: Vec<UserRow>,
    pub enrollments: Vec<EnrollmentRow>,
    pub employments: Vec<EmploymentRow>,
    pub awards: Vec<AwardRow>,
    pub certificates: Vec<CertificateRow>,
    pub certificate_decisions: Vec<DecisionRow>,
    pub milestones: Vec<StoredMilestone>,
    pub milestone_events: Vec<EventRow>,
    pub notifications: Vec<OutboxRow>,
    pub inbox: Vec<InboxRow>,
    pub notification_preferences: Vec<PreferencesRow>,
    pub shares: Vec<ShareRow>,
    pub share_accesses: Vec<AccessRow>,
    pub calendar_feed: Vec<FeedRow>,
    pub calendar_entries: Vec<EntryRow>,
    pub correction_requests: Vec<CorrectionRow>,
    pub audit_entries: Vec<AuditRow>,
}

#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = notification_preferences)]
pub struct PreferencesRow {
    pub learner_id: LearnerId,
    pub settings: String,
    pub updated_at: NaiveDateTime,
}

/// The learner's rows; `None` when there is no such learner.
pub fn learner_rows(
    conn: &mut DbConnection,
    learner_id: LearnerId,
) -> QueryResult<Option<LearnerRows>> {
    let Some(learner) = super::learners::find(conn, learner_id)? else {
        return Ok(None);
    };
    // Each kind of record read as the service reads it elsewhere.
    let certificates = super::certificates::of_learner(conn, learner_id)?;
    let certificate_ids: Vec<_> = certificates.iter().map(|c| c.id).collect();
    let accounts: Vec<UserRow> = users::table
        .filter(users::learner_id.eq(learner_id))
        .order(users::id)
        .select(UserRow::as_select())
        .load(conn)?;
    let enrollments = super::records::enrollments_of(conn, learner_id)?;
    let employments = super::records::employments_of(conn, learner_id)?;
    let awards = super::records::awards_of(conn, learner_id)?;
    let shares: Vec<ShareRow> = shares::table
        .filter(shares::learner_id.eq(learner_id))
        .order(shares::id)
        .select(ShareRow::as_select())
        .load(conn)?;
    let notifications: Vec<OutboxRow> = notification_outbox::table
        .filter(notification_outbox::learner_id.eq(learner_id))
        .order(notification_outbox::id)
        .select(OutboxRow::as_select())
        .load(conn)?;
    let corrections: Vec<CorrectionRow> = correction_requests::table
        .filter(correction_requests::learner_id.eq(learner_id))
        .order(correction_requests::id)
        .select(CorrectionRow::as_select())
        .load(conn)?;
    // The audit entries about the learner: those naming the learner, or one of their records,
    // accounts or shares, and what their own accounts did.
    let subjects: Vec<(AuditEntity, Vec<String>)> = vec![
        (AuditEntity::Learner, vec![learner_id.0.to_string()]),
        (
            AuditEntity::Notification,
            notifications.iter().map(|n| n.id.0.to_string()).collect(),
        ),
        (
            AuditEntity::User,
            accounts.iter().map(|a| a.id.0.to_string()).collect(),
        ),
        (
            AuditEntity::Enrollment,
            enrollments.iter().map(|e| e.id.0.to_string()).collect(),
        ),
        (
            AuditEntity::Employment,
            employments.iter().map(|e| e.id.0.to_string()).collect(),
        ),
        (
            AuditEntity::Award,
            awards.iter().map(|a| a.id.0.to_string()).collect(),
        ),
        (
            AuditEntity::Certificate,
            certificate_ids.iter().map(|c| c.0.to_string()).collect(),
        ),
        (
            AuditEntity::CorrectionRequest,
            corrections.iter().map(|c| c.id.0.to_string()).collect(),
        ),
        (
            AuditEntity::Share,
            shares.iter().map(|s| s.id.0.to_string()).collect(),
        ),
    ];
    let mut audit_entries: Vec<AuditRow> = Vec::new();
    for (entity, entity_ids) in subjects {
        if entity_ids.is_empty() {
            continue;
        }
        audit_entries.extend(
            audit_log::table
                .filter(audit_log::entity_type.eq(entity.as_str()))
                .filter(audit_log::entity_id.eq_any(entity_ids))
                .select(AuditRow::as_select())
                .load(conn)?,
        );
    }
    let account_ids: Vec<_> = accounts.iter().map(|a| a.id).collect();
    audit_entries.extend(
        audit_log::table
            .filter(audit_log::actor_user_id.eq_any(&account_ids))
            .select(AuditRow::as_select())
            .load(conn)?,
    );
    audit_entries.sort_by_key(|a| a.id);
    audit_entries.dedup_by_key(|a| a.id);
    Ok(Some(LearnerRows {
        kind_changes: super::learners::kind_history(conn, learner_id)?,
        certificate_decisions: certificate_decisions::table
            .filter(certificate_decisions::certificate_id.eq_any(&certificate_ids))
            .order(certificate_decisions::id)
            .select(DecisionRow::as_select())
            .load(conn)?,
        milestones: learner_milestones::table
            .filter(learner_milestones::learner_id.eq(learner_id))
            .order(learner_milestones::milestone_key)
            .select(StoredMilestone::as_select())
            .load(conn)?,
        milestone_events: milestone_events::table
            .filter(milestone_events::learner_id.eq(learner_id))
            .order(milestone_events::id)
            .select(EventRow::as_select())
            .load(conn)?,
        inbox: inbox_messages::table
            .filter(inbox_messages::learner_id.eq(learner_id))
            .order(inbox_messages::id)
            .select(InboxRow::as_select())
            .load(conn)?,
        notification_preferences: notification_preferences::table
            .filter(notification_preferences::learner_id.eq(learner_id))
            .select(PreferencesRow::as_select())
            .load(conn)?,
        share_accesses: share_accesses::table
            .filter(share_accesses::learner_id.eq(learner_id))
            .order(share_accesses::id)
            .select(AccessRow::as_select())
            .load(conn)?,
        calendar_feed: super::calendar::feed_of(conn, learner_id)?
            .into_iter()
            .collect(),
        calendar_entries: super::calendar::entries_of(conn, learner_id)?,
        learner,
        accounts,
        enrollments,
        employments,
        awards,
        certificates,
        shares,
        notifications,
        correction_requests: corrections,
        audit_entries,
    }))
}
