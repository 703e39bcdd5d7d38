//! Operations endpoints outside `/api/v1`: liveness, readiness, metrics.

use actix_web::{web, HttpResponse};
use diesel::RunQueryDsl;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::problem::Problem;
use crate::error::AppError;
use crate::state::AppState;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Readiness {
    /// `ready`.
    pub status: String,
    /// `sqlite` or `postgres`.
    pub database: String,
}

/// The process is alive (no dependency is checked).
#[utoipa::path(get, path = "/health", tag = "operations",
    responses((status = 200, description = "Alive", body = Health)))]
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(Health {
        status: "ok".into(),
    })
}

/// The service can reach its database and may receive traffic.
#[utoipa::path(get, path = "/ready", tag = "operations",
    responses(
        (status = 200, description = "Ready", body = Readiness),
        (status = 503, description = "The database is unreachable", body = Problem, content_type = "application/problem+json")))]
pub async fn ready(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let db = state.db.clone();
    let outcome = state
        .db
        .read(move |conn| {
            // A SQLite file removed from under the service would silently lose every write.
            if let Some(path) = db.sqlite_path() {
                if !path.exists() {
                    return Err(AppError::Unavailable {
                        cause: format!("database file {} is missing", path.display()),
                        connection_lost: false,
                    });
                }
            }
            diesel::sql_query("SELECT 1").execute(conn)?;
            Ok(())
        })
        .await;
    match outcome {
        Ok(()) => Ok(HttpResponse::Ok().json(Readiness {
            status: "ready".into(),
            database: state.db.backend_name().into(),
        })),
        Err(err @ AppError::Unavailable { .. }) => Err(err),
        Err(other) => Err(AppError::Unavailable {
            cause: format!("readiness query: {other:?}"),
            connection_lost: false,
        }),
    }
}

/// Prometheus text exposition: `skillpath_http_requests_total`,
/// `skillpath_http_request_duration_seconds`, `skillpath_db_pool_connections`,
/// `skillpath_notification_outbox_rows`, `skillpath_notifications_{sent,failed,dead}_total`,
/// `skillpath_notification_delivery_seconds`.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Metrics", body = String, content_type = "text/plain")))]
pub async fn metrics(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let scraped = state.clone();
    let text = web::block(move || scraped.metrics.render(&scraped.db))
        .await
        .map_err(|e| AppError::internal("metrics task", e))?
        .map_err(|e| AppError::internal("rendering metrics", e))?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(text))
}
