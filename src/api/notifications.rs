//! `/api/v1/me/notifications`: the learner's in-app inbox.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::pagination::PageParams;
use crate::auth::AuthUser;
use crate::db::{self, notifications};
use crate::error::{ApiError, Problem};
use crate::notify::preferences::Preferences;
use crate::rules::Text;
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct InboxItem {
    pub id: i64,
    /// `certificate` or `milestone`.
    pub category: String,
    pub title: Text,
    pub body: Text,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Inbox {
    /// Newest first.
    pub items: Vec<InboxItem>,
    /// Pass as `cursor` for older messages; absent on the last page.
    pub next_cursor: Option<String>,
    pub unread_count: i64,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InboxQuery {
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// The learner's inbox, newest first, with the number of unread messages.
#[utoipa::path(get, path = "/api/v1/me/notifications", tag = "notifications", params(InboxQuery), security(("bearer" = [])),
    responses((status = 200, description = "Inbox", body = Inbox),
        (status = 403, description = "Not a learner account", body = Problem, content_type = "application/problem+json")))]
pub async fn inbox(
    state: web::Data<AppState>,
    caller: AuthUser,
    query: web::Query<InboxQuery>,
) -> Result<web::Json<Inbox>, ApiError> {
    let learner_id = caller.own_learner_id()?;
    let q = query.into_inner();
    let page = PageParams {
        limit: q.limit,
        cursor: q.cursor,
    };
    let (limit, before) = (page.limit()?, page.after_id()?);
    let (mut rows, unread_count) = state
        .db
        .read(move |conn| {
            Ok((
                notifications::inbox(conn, learner_id, before, limit + 1)?,
                notifications::unread_count(conn, learner_id)?,
            ))
        })
        .await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(0));
    let next_cursor = if more {
        rows.last().map(|r| r.id.to_string())
    } else {
        None
    };
    let items = rows
        .into_iter()
        .map(|r| InboxItem {
            id: r.id,
            category: r.category,
            title: Text::new(r.title_zh, r.title_en),
            body: Text::new(r.body_zh, r.body_en),
            created_at: r.created_at.and_utc(),
            read_at: r.read_at.map(|t| t.and_utc()),
        })
        .collect();
    Ok(web::Json(Inbox {
        items,
        next_cursor,
        unread_count,
    }))
}

/// Mark one message read.
#[utoipa::path(post, path = "/api/v1/me/notifications/{id}/read", tag = "notifications",
    params(("id" = i64, Path, description = "Message id")), security(("bearer" = [])),
    responses((status = 204, description = "Read"),
        (status = 404, description = "No such message in your inbox", body = Problem, content_type = "application/problem+json")))]
pub async fn mark_read(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let learner_id = caller.own_learner_id()?;
    let id = id.into_inner();
    let found = state
        .db
        .write(move |conn| Ok(notifications::mark_read(conn, learner_id, id, db::now())?))
        .await?;
    if !found {
        return Err(ApiError::NotFound { what: "message" });
    }
    Ok(HttpResponse::NoContent().finish())
}

/// Mark every message read.
#[utoipa::path(post, path = "/api/v1/me/notifications/read-all", tag = "notifications", security(("bearer" = [])),
    responses((status = 204, description = "All read")))]
pub async fn mark_all_read(
    state: web::Data<AppState>,
    caller: AuthUser,
) -> Result<HttpResponse, ApiError> {
    let learner_id = caller.own_learner_id()?;
    state
        .db
        .write(move |conn| Ok(notifications::mark_all_read(conn, learner_id, db::now())?))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The learner's notification preferences (the defaults until they change them).
#[utoipa::path(get, path = "/api/v1/me/notification-preferences", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, description = "Preferences", body = Preferences),
        (status = 403, description = "Not a learner account", body = Problem, content_type = "application/problem+json")))]
pub async fn get_preferences(
    state: web::Data<AppState>,
    caller: AuthUser,
) -> Result<web::Json<Preferences>, ApiError> {
    let learner_id = caller.own_learner_id()?;
    Ok(web::Json(
        state
            .db
            .read(move |conn| crate::notify::load_preferences(conn, learner_id))
            .await?,
    ))
}

/// Replace the learner's notification preferences. Email can be muted per category; the inbox
/// copy cannot (these notices concern rights and deadlines).
#[utoipa::path(put, path = "/api/v1/me/notification-preferences", tag = "notifications", request_body = Preferences, security(("bearer" = [])),
    responses((status = 200, description = "Saved", body = Preferences),
        (status = 403, description = "Not a learner account", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid times, or an inbox copy turned off", body = Problem, content_type = "application/problem+json")))]
pub async fn put_preferences(
    state: web::Data<AppState>,
    caller: AuthUser,
    body: web::Json<Preferences>,
) -> Result<web::Json<Preferences>, ApiError> {
    let learner_id = caller.own_learner_id()?;
    let prefs = body.into_inner();
    prefs.check()?;
    let json = serde_json::to_string(&prefs).map_err(|e| ApiError::internal("preferences", e))?;
    state
        .db
        .write(move |conn| {
            Ok(notifications::save_preferences(
                conn,
                learner_id,
                &json,
                db::now(),
            )?)
        })
        .await?;
    Ok(web::Json(prefs))
}
