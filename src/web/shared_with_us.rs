//! HR staff's list of what learners shared with their enterprise: who (the name masked, as a
//! share shows it), for what, until when, in what state, and whether they are an employee. The
//! records themselves open with the share's code (`/verify`), which only the learner gives.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use super::error::PageError;
use super::session::Visitor;
use super::ui::Ui;
use crate::db;
use crate::services::sharing::{self, ShareStatus};
use crate::state::AppState;

/// Shares listed at once (the newest).
const LISTED: i64 = 100;

struct AddressedView {
    learner: String,
    purpose: String,
    shared: String,
    until: String,
    status: &'static str,
    status_label: &'static str,
    employee: bool,
}

#[derive(Template)]
#[template(path = "shared_with_us.html")]
struct SharedWithUsPage {
    ui: Ui,
    shares: Vec<AddressedView>,
}

/// `GET /shared-with-us`
pub async fn page(
    state: web::Data<AppState>,
    req: HttpRequest,
    visitor: Visitor,
) -> Result<HttpResponse, PageError> {
    let session = visitor.signed_in()?;
    let caller = session.user.clone();
    let rows = state
        .db
        .read(move |conn| sharing::addressed_to_caller(conn, &caller, LISTED))
        .await?;
    let ui = Ui::signed(&req, &session);
    let now = db::now();
    let shares = rows
        .into_iter()
        .map(|(row, learner, employee)| {
            let status = sharing::share_status(&row, now);
            AddressedView {
                learner,
                purpose: row.purpose,
                shared: ui.day_of(row.created_at),
                until: ui.moment(row.expires_at),
                status: match status {
                    ShareStatus::Active => "active",
                    ShareStatus::Revoked => "revoked",
                    ShareStatus::Expired => "expired",
                },
                status_label: ui.share_status(status),
                employee,
            }
        })
        .collect();
    let page = SharedWithUsPage { ui, shares };
    Ok(super::html(StatusCode::OK).body(super::render(&page)?))
}
