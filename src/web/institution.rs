//! An institution's own page (its staff, administrators): where its designation application
//! stands with every step taken, and its yearly targets of policy 四 with a small chart each.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::Datelike;

use super::error::PageError;
use super::session::Visitor;
use super::ui::Ui;
use crate::domain::{today_in_shanghai, InstitutionId, TargetKind};
use crate::error::AppError;
use crate::services::designations::{self, ApplicationView};
use crate::services::targets::{self, Targets};
use crate::state::AppState;

/// Years of targets shown, the current one last.
const YEARS: i32 = 5;
/// The charts' drawing height, in pixels.
const CHART_HEIGHT: f64 = 60.0;

struct StepLine {
    decided_on: String,
    step: &'static str,
    by: String,
    decision: &'static str,
    reason: String,
}

struct ApplicationBox {
    state: &'static str,
    submitted_on: Option<String>,
    awaiting: Vec<&'static str>,
    designated: Option<String>,
    steps: Vec<StepLine>,
}

struct Bar {
    year: i32,
    x: f64,
    height: f64,
    label: String,
    /// `met`, `short` or `open` (no verdict).
    class: &'static str,
}

struct Chart {
    title: &'static str,
    clause: &'static str,
    bars: Vec<Bar>,
    /// The threshold line's height, when the year has one.
    line: Option<f64>,
    /// This year's figure in words, with its pace.
    now: String,
}

#[derive(Template)]
#[template(path = "institution.html")]
struct InstitutionPage {
    ui: Ui,
    name: String,
    application: Option<ApplicationBox>,
    charts: Vec<Chart>,
    year_from: i32,
    year_to: i32,
}

fn shown(value: Option<f64>, target: TargetKind) -> String {
    match value {
        None => "—".to_owned(),
        Some(v) if target == TargetKind::DualQualifiedShare => format!("{:.0}%", v * 100.0),
        Some(v) => format!("{v}"),
    }
}

fn application_box(ui: &Ui, view: ApplicationView) -> ApplicationBox {
    let pick = |(zh, en): (&'static str, &'static str)| ui.t(zh, en);
    let a = view.application;
    ApplicationBox {
        state: pick(a.state.names()),
        submitted_on: a.submitted_on.map(|d| d.to_string()),
        awaiting: view.awaiting.into_iter().map(|b| pick(b.names())).collect(),
        designated: view.designation.map(|d| match d.designated_until {
            Some(until) => format!("{} – {until}", d.designated_from),
            None => format!("{} –", d.designated_from),
        }),
        steps: view
            .steps
            .into_iter()
            .map(|s| StepLine {
                decided_on: s.decided_on.to_string(),
                step: pick(s.step.names()),
                by: s
                    .body_name
                    .or_else(|| s.body.map(|b| pick(b.names()).to_owned()))
                    .unwrap_or_default(),
                decision: s.decision.map(|d| pick(d.names())).unwrap_or_default(),
                reason: s.reason.unwrap_or_default(),
            })
            .collect(),
    }
}

/// One chart per target over the years, scaled to the largest value or threshold.
fn charts(ui: &Ui, years: &[Targets]) -> Vec<Chart> {
    let Some(latest) = years.last() else {
        return Vec::new();
    };
    latest
        .figures
        .iter()
        .enumerate()
        .map(|(i, current)| {
            let of_year: Vec<_> = years.iter().map(|t| (t.year, &t.figures[i])).collect();
            let top = of_year
                .iter()
                .flat_map(|(_, f)| [f.value, f.threshold, f.projection])
                .flatten()
                .fold(0.0_f64, f64::max)
                .max(f64::MIN_POSITIVE);
            let scale = |v: f64| (v / top * CHART_HEIGHT).round();
            let (zh, en) = current.target.names();
            let pace = current
                .projection
                .map(|p| {
                    format!(
                        " · {} {}",
                        ui.t("按进度年底约", "at this pace by December"),
                        p
                    )
                })
                .unwrap_or_default();
            Chart {
                title: ui.t(zh, en),
                clause: current.clause,
                bars: of_year
                    .iter()
                    .enumerate()
                    .map(|(n, (year, f))| Bar {
                        year: *year,
                        x: 4.0 + 24.0 * n as f64,
                        height: scale(f.value.unwrap_or(0.0)),
                        label: shown(f.value, f.target),
                        class: match f.met {
                            Some(true) => "met",
                            Some(false) => "short",
                            None => "open",
                        },
                    })
                    .collect(),
                line: current.threshold.map(scale),
                now: format!(
                    "{} / {}{pace}",
                    shown(current.value, current.target),
                    shown(current.threshold, current.target)
                ),
            }
        })
        .collect()
}

/// `GET /institutions/{id}`
pub async fn page(
    state: web::Data<AppState>,
    req: HttpRequest,
    visitor: Visitor,
    id: web::Path<InstitutionId>,
) -> Result<HttpResponse, PageError> {
    let session = visitor.signed_in()?;
    let caller = session.user.clone();
    let id = id.into_inner();
    let today = today_in_shanghai();
    let (application, years) = state
        .db
        .read(move |conn| {
            let latest = designations::list(conn, &caller, id)?.into_iter().next();
            let application = match latest {
                Some(row) => Some(designations::view(conn, &caller, id, row.id, today)?),
                None => None,
            };
            let years = targets::over_years(
                conn,
                &caller,
                id,
                today.year() - YEARS + 1..=today.year(),
                today,
            )?;
            Ok::<_, AppError>((application, years))
        })
        .await?;
    let ui = Ui::signed(&req, &session);
    let name = years
        .last()
        .map(|t| t.institution.name.clone())
        .unwrap_or_default();
    let page = InstitutionPage {
        application: application.map(|v| application_box(&ui, v)),
        charts: charts(&ui, &years),
        year_from: today.year() - YEARS + 1,
        year_to: today.year(),
        name,
        ui,
    };
    Ok(super::html(StatusCode::OK).body(super::render(&page)?))
}
