//! Notifications: the learner's in-app inbox and preferences, the administrators' view of the
//! outbox (dead rows and their retry), and the one-click unsubscribe links of emails.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::body::JsonBody;
use crate::api::pagination::{Page, PageParams};
use crate::api::problem::Problem;
use crate::auth::AuthUser;
use crate::db::{self, notifications};
use crate::domain::{Category, Channel, NoticeKind};
use crate::domain::{LearnerId, MessageId, NoticeId, OutboxStatus, UserId};
use crate::error::AppError;
use crate::notify::preferences::Preferences;
use crate::rules::Text;
use crate::services::notifications as notices;
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct InboxItem {
    #[schema(value_type = i64)]
    pub id: MessageId,
    /// `certificate`, `milestone`, `share`, or (to staff) `institution`.
    #[schema(value_type = String)]
    pub category: Category,
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

/// The caller's inbox, newest first, with the number of unread messages (learners; HR staff get
/// notices about records they relied on).
#[utoipa::path(get, path = "/api/v1/me/notifications", tag = "notifications", params(InboxQuery), security(("bearer" = [])),
    responses((status = 200, description = "Inbox", body = Inbox)))]
pub async fn inbox(
    state: web::Data<AppState>,
    caller: AuthUser,
    query: web::Query<InboxQuery>,
) -> Result<web::Json<Inbox>, AppError> {
    let owner = caller.inbox_owner();
    let q = query.into_inner();
    let page = PageParams {
        limit: q.limit,
        cursor: q.cursor,
    };
    let (limit, before) = (page.limit()?, page.after_id()?);
    let (mut rows, unread_count) = state
        .db
        .read(move |conn| notices::inbox(conn, owner, before, limit + 1))
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
    id: web::Path<MessageId>,
) -> Result<HttpResponse, AppError> {
    let owner = caller.inbox_owner();
    let id = id.into_inner();
    let found = state
        .db
        .write(move |conn| Ok(notifications::mark_read(conn, owner, id, db::now())?))
        .await?;
    if !found {
        return Err(AppError::NotFound { what: "message" });
    }
    Ok(HttpResponse::NoContent().finish())
}

/// Mark every message read.
#[utoipa::path(post, path = "/api/v1/me/notifications/read-all", tag = "notifications", security(("bearer" = [])),
    responses((status = 204, description = "All read")))]
pub async fn mark_all_read(
    state: web::Data<AppState>,
    caller: AuthUser,
) -> Result<HttpResponse, AppError> {
    let owner = caller.inbox_owner();
    state
        .db
        .write(move |conn| Ok(notifications::mark_all_read(conn, owner, db::now())?))
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
) -> Result<web::Json<Preferences>, AppError> {
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
    body: JsonBody<Preferences>,
) -> Result<web::Json<Preferences>, AppError> {
    let learner_id = caller.own_learner_id()?;
    let prefs = body.into_inner();
    prefs.check()?;
    let stored = prefs.clone();
    state
        .db
        .write(move |conn| notices::save_preferences(conn, learner_id, &stored))
        .await?;
    Ok(web::Json(prefs))
}

/// An outbox row, for administrators.
#[derive(Debug, Serialize, ToSchema)]
pub struct OutboxItem {
    #[schema(value_type = i64)]
    pub id: NoticeId,
    /// The learner it is for, or …
    #[schema(value_type = Option<i64>)]
    pub learner_id: Option<LearnerId>,
    /// … the staff account it is for.
    #[schema(value_type = Option<i64>)]
    pub user_id: Option<UserId>,
    /// `inbox` or `email`.
    #[schema(value_type = String)]
    pub channel: Channel,
    #[schema(value_type = String)]
    pub category: Category,
    #[schema(value_type = String)]
    pub kind: NoticeKind,
    /// What caused it; one row per learner, event key and channel.
    pub event_key: String,
    #[schema(value_type = String)]
    pub status: OutboxStatus,
    pub attempts: i32,
    /// When it is (or was) due.
    pub due_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub title: Option<Text>,
}

impl From<notifications::OutboxRow> for OutboxItem {
    fn from(r: notifications::OutboxRow) -> Self {
        let title = serde_json::from_str::<crate::notify::Message>(&r.payload)
            .ok()
            .map(|m| m.title);
        Self {
            id: r.id,
            learner_id: r.learner_id,
            user_id: r.user_id,
            channel: r.channel,
            category: r.category,
            kind: r.kind,
            event_key: r.event_key,
            status: r.status,
            attempts: r.attempts,
            due_at: r.due_at.and_utc(),
            last_error: r.last_error,
            created_at: r.created_at.and_utc(),
            sent_at: r.sent_at.map(|t| t.and_utc()),
            title,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OutboxQuery {
    /// `pending`, `sent`, `dead` or `withdrawn`; all when absent.
    #[param(value_type = Option<OutboxStatus>)]
    pub status: Option<String>,
    #[param(value_type = Option<i64>)]
    pub learner_id: Option<LearnerId>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// The notification outbox, oldest first: `?status=dead` lists what failed for good.
#[utoipa::path(get, path = "/api/v1/admin/notifications", tag = "notifications", params(OutboxQuery), security(("bearer" = [])),
    responses((status = 200, description = "One page of outbox rows", body = Page<OutboxItem>),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown status", body = Problem, content_type = "application/problem+json")))]
pub async fn list_outbox(
    state: web::Data<AppState>,
    caller: AuthUser,
    query: web::Query<OutboxQuery>,
) -> Result<web::Json<Page<OutboxItem>>, AppError> {
    caller.require_admin()?;
    let q = query.into_inner();
    let status = match q.status.as_deref().map(str::trim) {
        None => None,
        Some(raw) => Some(
            raw.parse::<OutboxStatus>()
                .map_err(|m| AppError::invalid("status", m))?,
        ),
    };
    let page = PageParams {
        limit: q.limit,
        cursor: q.cursor,
    };
    let (limit, after) = (page.limit()?, page.after_id()?);
    let learner_id = q.learner_id;
    let rows = state
        .db
        .read(move |conn| {
            Ok(notifications::list(
                conn,
                status.map(OutboxStatus::as_str),
                learner_id,
                after,
                limit + 1,
            )?)
        })
        .await?;
    Ok(web::Json(Page::from_rows(
        rows,
        limit,
        |r| r.id,
        OutboxItem::from,
    )))
}

/// Put a dead notification back in the queue, with a fresh count of attempts.
#[utoipa::path(post, path = "/api/v1/admin/notifications/{id}/retry", tag = "notifications",
    params(("id" = i64, Path, description = "Outbox row id")), security(("bearer" = [])),
    responses((status = 200, description = "Queued again", body = OutboxItem),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such row", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The row is not dead", body = Problem, content_type = "application/problem+json")))]
pub async fn retry_outbox(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<NoticeId>,
) -> Result<web::Json<OutboxItem>, AppError> {
    caller.require_admin()?;
    let id = id.into_inner();
    let actor = caller.id;
    let row = state
        .db
        .write(move |conn| notices::retry(conn, actor, id))
        .await?;
    Ok(web::Json(row.into()))
}

/// The page an unsubscribe link opens: it asks before acting, since mail scanners follow links.
#[utoipa::path(get, path = "/api/v1/unsubscribe/{token}", tag = "notifications",
    params(("token" = String, Path, description = "The signed token of an email's unsubscribe link")),
    responses((status = 200, description = "A page with a button that unsubscribes", body = String, content_type = "text/html"),
        (status = 404, description = "Not a token this service signed", body = Problem, content_type = "application/problem+json")))]
pub async fn unsubscribe_page(
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let (_, category) = verify_unsubscribe(&state, &token)?;
    let (zh, en) = category.names();
    let body = format!(
        "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>退订 / Unsubscribe</title></head><body>\
<p>退订“{zh}”类邮件？站内消息不受影响。<br>Unsubscribe from emails about {en}? Your in-app inbox is not affected.</p>\
<form method=\"post\"><input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">\
<button type=\"submit\">退订 / Unsubscribe</button></form></body></html>\n"
    );
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(body))
}

/// One-click unsubscribe (RFC 8058): turns email off for the token's category. Works without
/// logging in; repeating it changes nothing.
#[utoipa::path(post, path = "/api/v1/unsubscribe/{token}", tag = "notifications",
    params(("token" = String, Path, description = "The signed token of an email's unsubscribe link")),
    request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "`List-Unsubscribe=One-Click` (the body is not required)"),
    responses((status = 200, description = "Unsubscribed", body = String, content_type = "text/html"),
        (status = 404, description = "Not a token this service signed", body = Problem, content_type = "application/problem+json")))]
pub async fn unsubscribe(
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let (learner_id, category) = verify_unsubscribe(&state, &token)?;
    state
        .db
        .write(move |conn| notices::unsubscribe(conn, learner_id, category))
        .await?;
    let (zh, en) = category.names();
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(format!(
            "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>已退订 / Unsubscribed</title></head><body>\
<p>已退订“{zh}”类邮件。可在 Skillpath 的通知设置中重新开启。<br>You will no longer receive emails about {en}. \
You can turn them on again in Skillpath's notification settings.</p></body></html>\n"
        )))
}

fn verify_unsubscribe(
    state: &AppState,
    token: &str,
) -> Result<(LearnerId, crate::notify::Category), AppError> {
    state.unsubscribe.verify(token).ok_or(AppError::NotFound {
        what: "unsubscribe link",
    })
}
