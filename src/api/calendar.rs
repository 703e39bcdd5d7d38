//! The learner's calendar feed: turned on (or given a new address), looked at, turned off; and
//! the feed itself, fetched by calendar clients at its secret address without logging in.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::api::problem::Problem;
use crate::auth::AuthUser;
use crate::db;
use crate::domain::today_in_shanghai;
use crate::error::AppError;
use crate::services::calendar;
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarFeedState {
    pub enabled: bool,
    /// When the current address was made.
    pub created_at: Option<DateTime<Utc>>,
    /// When a calendar last fetched the feed.
    pub last_fetched_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarFeedAddress {
    /// The feed's private address (shown only now; whoever has it can read the feed).
    pub url: String,
    /// The same address for calendar apps that subscribe to `webcal:` links.
    pub webcal_url: String,
    pub created_at: DateTime<Utc>,
}

/// Whether the caller's calendar feed is on.
#[utoipa::path(get, path = "/api/v1/me/calendar", tag = "calendar", security(("bearer" = [])),
    responses((status = 200, description = "The feed's state (its address is shown only when made)", body = CalendarFeedState),
        (status = 403, description = "Not a learner account", body = Problem, content_type = "application/problem+json")))]
pub async fn feed_state(
    state: web::Data<AppState>,
    caller: AuthUser,
) -> Result<web::Json<CalendarFeedState>, AppError> {
    let learner_id = caller.own_learner_id()?;
    let feed = state
        .db
        .read(move |conn| calendar::state(conn, learner_id))
        .await?;
    Ok(web::Json(CalendarFeedState {
        enabled: feed.enabled,
        created_at: feed.created_at.map(|t| t.and_utc()),
        last_fetched_at: feed.last_fetched_at.map(|t| t.and_utc()),
    }))
}

/// Turn the calendar feed on, or give it a new address: the previous address stops working at
/// once. Event identifiers do not change, so a calendar that subscribes to the new address
/// shows the same events.
#[utoipa::path(post, path = "/api/v1/me/calendar", tag = "calendar", security(("bearer" = [])),
    responses((status = 201, description = "The feed's new address", body = CalendarFeedAddress),
        (status = 403, description = "Not a learner account", body = Problem, content_type = "application/problem+json")))]
pub async fn enable_feed(
    state: web::Data<AppState>,
    caller: AuthUser,
) -> Result<HttpResponse, AppError> {
    let learner_id = caller.own_learner_id()?;
    let now = db::now();
    let public_url = state.settings.notify.public_url.clone();
    let address = state
        .db
        .write(move |conn| calendar::enable(conn, learner_id, &public_url, now))
        .await?;
    tracing::info!(learner_id = learner_id.0, "calendar feed address made");
    Ok(HttpResponse::Created()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(CalendarFeedAddress {
            url: address.url,
            webcal_url: address.webcal_url,
            created_at: now.and_utc(),
        }))
}

/// Turn the calendar feed off: its address answers 404 from now on. Repeating it changes nothing.
#[utoipa::path(delete, path = "/api/v1/me/calendar", tag = "calendar", security(("bearer" = [])),
    responses((status = 204, description = "Off"),
        (status = 403, description = "Not a learner account", body = Problem, content_type = "application/problem+json")))]
pub async fn disable_feed(
    state: web::Data<AppState>,
    caller: AuthUser,
) -> Result<HttpResponse, AppError> {
    let learner_id = caller.own_learner_id()?;
    state
        .db
        .write(move |conn| calendar::disable(conn, learner_id))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The feed (iCalendar, RFC 5545): an all-day event for each day a milestone makes the learner
/// eligible and each last day of an open window, in the learner's language, with alarms at 09:00
/// on the reminder days. Needs no login: the address is the secret.
#[utoipa::path(get, path = "/api/v1/calendar/{token}.ics", tag = "calendar",
    params(("token" = String, Path, description = "The feed's secret token")),
    responses((status = 200, description = "The calendar", body = String, content_type = "text/calendar"),
        (status = 404, description = "No feed at this address (never made, replaced or turned off)", body = Problem, content_type = "application/problem+json")))]
pub async fn feed(
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let token = token.into_inner();
    let parameters = std::sync::Arc::clone(&state.parameters);
    let (today, now) = (today_in_shanghai(), db::now());
    let learner_id = state
        .db
        .read(move |conn| calendar::owner(conn, &token))
        .await?;
    // Recorded in the write transaction, rendered after it.
    let content = state
        .db
        .write(move |conn| calendar::feed(conn, &parameters, learner_id, today, now))
        .await?;
    let body = content.render();
    Ok(HttpResponse::Ok()
        .content_type("text/calendar; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            "inline; filename=\"skillpath.ics\"",
        ))
        .body(body))
}
