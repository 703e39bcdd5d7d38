//! The append-only audit log: who did what to which record, when. Written in the same
//! transaction as the change it records; the database refuses updates and deletes.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::Value;

use super::schema::audit_log;
use super::DbConnection;
use crate::domain::{AuditAction, AuditEntity, UserId};

#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = audit_log)]
pub struct AuditRow {
    pub id: i64,
    pub actor_user_id: Option<UserId>,
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    pub summary: String,
    pub created_at: NaiveDateTime,
}

/// Appends one entry. `summary` must never hold an identity number in clear.
pub fn record(
    conn: &mut DbConnection,
    actor: Option<UserId>,
    action: AuditAction,
    entity_type: AuditEntity,
    entity_id: impl ToString,
    summary: &Value,
) -> QueryResult<usize> {
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::actor_user_id.eq(actor),
            audit_log::action.eq(action.as_str()),
            audit_log::entity_type.eq(entity_type.as_str()),
            audit_log::entity_id.eq(entity_id.to_string()),
            audit_log::summary.eq(summary.to_string()),
            audit_log::created_at.eq(super::now()),
        ))
        .execute(conn)
}

pub fn list(
    conn: &mut DbConnection,
    entity_type: Option<&str>,
    entity_id: Option<&str>,
    actor: Option<UserId>,
    after_id: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<AuditRow>> {
    let mut query = audit_log::table
        .select(AuditRow::as_select())
        .order(audit_log::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(t) = entity_type {
        query = query.filter(audit_log::entity_type.eq(t.to_owned()));
    }
    if let Some(id) = entity_id {
        query = query.filter(audit_log::entity_id.eq(id.to_owned()));
    }
    if let Some(actor) = actor {
        query = query.filter(audit_log::actor_user_id.eq(actor));
    }
    if let Some(after) = after_id {
        query = query.filter(audit_log::id.gt(after));
    }
    query.load(conn)
}
