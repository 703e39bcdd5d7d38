//! College staff upload a cohort's CSV file from its page. The page's script (`static/upload.js`,
//! a file picker or a file dropped on the page) posts the file as `text/csv` with the session's
//! CSRF token in a header, and shows the answer: a fragment with the row-by-row report. A file
//! with a bad row stores nothing (the import is all or nothing), and the report says which rows
//! to mend. The import is the API's use case (`services::imports::cohort::import_and_refresh`).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use super::error::PageError;
use super::session::Visitor;
use super::ui::Ui;
use crate::auth::scope::{self, RefusedMatches};
use crate::domain::{CohortId, Role};
use crate::error::AppError;
use crate::services::imports::cohort::{self as cohort_import, ImportTarget};
use crate::services::imports::csv::{ImportReport, RowError};
use crate::state::AppState;
use crate::upload;

/// The header the page's script sends the session's CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

#[derive(Template)]
#[template(path = "import_report.html")]
struct ReportFragment<'a> {
    ui: &'a Ui,
    /// Stored, or refused as a whole.
    committed: bool,
    report: Option<ImportReport>,
    /// A refusal of the file itself (not CSV, too large, a missing column, …).
    refusal: Option<String>,
    rows: Vec<RowError>,
}

fn fragment(
    ui: &Ui,
    status: StatusCode,
    report: Option<ImportReport>,
    refusal: Option<String>,
) -> Result<HttpResponse, PageError> {
    let rows = report
        .as_ref()
        .map(|r| r.rejected.clone())
        .unwrap_or_default();
    let page = ReportFragment {
        ui,
        committed: report.as_ref().is_some_and(|r| r.committed),
        report,
        refusal,
        rows,
    };
    Ok(super::html(status).body(super::render(&page)?))
}

/// `POST /cohorts/{id}/import` (from the cohort page's script): the file imported all or
/// nothing; answers the report as a fragment of the page.
pub async fn import(
    state: web::Data<AppState>,
    req: HttpRequest,
    visitor: Visitor,
    id: web::Path<CohortId>,
    payload: web::Payload,
) -> Result<HttpResponse, PageError> {
    let session = visitor.signed_in()?;
    session.user.require(&[Role::Admin, Role::CollegeStaff])?;
    let token = req
        .headers()
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    session.check_csrf(token)?;
    let ui = Ui::signed(&req, &session);
    let caller = session.user.clone();
    let cohort_id = id.into_inner();
    let who = caller.clone();
    let target = state
        .db
        .read(move |conn| ImportTarget::check(conn, &who, cohort_id))
        .await?;
    let upload = match upload::open(&req, payload).await {
        Ok(upload) => upload,
        Err(refused) => return refusal(&ui, refused),
    };
    let st = state.clone();
    let refused = RefusedMatches::new(state.scope_refusals.clone());
    let (who, sink) = (caller.clone(), refused.clone());
    let outcome = state
        .db
        .write(move |conn| {
            let ctx = st.cohort_import(&who, &sink, target);
            cohort_import::import_and_refresh(conn, &ctx, upload, false)
        })
        .await;
    scope::record_refusals(&state.db, &caller, &refused).await;
    match outcome {
        Ok(report) => fragment(&ui, StatusCode::OK, Some(report), None),
        Err(AppError::ImportRejected { report, .. }) => {
            let report: Option<ImportReport> = serde_json::from_value(report).ok();
            fragment(&ui, StatusCode::UNPROCESSABLE_ENTITY, report, None)
        }
        Err(other) => refusal(&ui, other),
    }
}

/// A file refused as a whole, said in the fragment (failures of the server stay pages).
fn refusal(ui: &Ui, error: AppError) -> Result<HttpResponse, PageError> {
    let (status, text) = match &error {
        AppError::InvalidCsv(missing) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "{}{}",
                ui.t("文件缺少必需的列：", "The file lacks required columns: "),
                missing
                    .iter()
                    .map(|f| f.field.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
        AppError::TooLarge { .. } => (
            StatusCode::PAYLOAD_TOO_LARGE,
            ui.t(
                "文件太大（最大 64 MB）。",
                "The file is too large (64 MB at most).",
            )
            .to_owned(),
        ),
        AppError::UnsupportedFormat { .. }
        | AppError::BadInput { .. }
        | AppError::Validation(_) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "{}{error}",
                ui.t("无法读取此文件：", "This file cannot be read: ")
            ),
        ),
        _ => return Err(error.into()),
    };
    fragment(ui, status, None, Some(text))
}
