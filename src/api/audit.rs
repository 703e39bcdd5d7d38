//! `/api/v1/audit`: the append-only record of every write (administrators).

use actix_web::web;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::pagination::{Page, PageParams};
use crate::api::problem::Problem;
use crate::auth::AuthUser;
use crate::db::audit::{self, AuditRow};
use crate::domain::UserId;
use crate::error::AppError;
use crate::state::AppState;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    /// The account that acted (none for the system itself).
    #[schema(value_type = Option<i64>)]
    pub actor_user_id: Option<UserId>,
    /// `create`, `update`, `import`, `verify`, `reject`, `revoke`, `designate`, …
    pub action: String,
    /// `learner`, `certificate`, `institution`, `program`, `cohort`, `occupation`, …
    pub entity_type: String,
    pub entity_id: String,
    /// What changed. Identity numbers appear only masked.
    #[schema(value_type = Object)]
    pub summary: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

fn entry(row: AuditRow) -> AuditEntry {
    AuditEntry {
        id: row.id,
        actor_user_id: row.actor_user_id,
        action: row.action,
        entity_type: row.entity_type,
        entity_id: row.entity_id,
        summary: serde_json::from_str(&row.summary).unwrap_or(serde_json::Value::Null),
        created_at: row.created_at.and_utc(),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    pub limit: Option<i64>,
    pub cursor: Option<String>,
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    #[param(value_type = Option<i64>)]
    pub actor_user_id: Option<UserId>,
}

/// The audit log, oldest first (administrators).
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit",
    params(AuditQuery), security(("bearer" = [])),
    responses((status = 200, description = "One page", body = Page<AuditEntry>),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json")))]
pub async fn list_audit(
    state: web::Data<AppState>,
    caller: AuthUser,
    query: web::Query<AuditQuery>,
) -> Result<web::Json<Page<AuditEntry>>, AppError> {
    caller.require_admin()?;
    let q = query.into_inner();
    let page = PageParams {
        limit: q.limit,
        cursor: q.cursor,
    };
    let (limit, after) = (page.limit()?, page.after_id()?);
    let rows = state
        .db
        .read(move |conn| {
            Ok(audit::list(
                conn,
                q.entity_type.as_deref(),
                q.entity_id.as_deref(),
                q.actor_user_id,
                after,
                limit + 1,
            )?)
        })
        .await?;
    Ok(web::Json(Page::from_rows(rows, limit, |r| r.id, entry)))
}
