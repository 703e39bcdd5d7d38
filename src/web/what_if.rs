//! "What if I pass 技师 on …?": the learner's milestones supposing a certificate, compared with
//! today's; nothing is stored (the API's `POST /me/what-if` use case). A query, not a form that
//! changes anything, so it is a GET and needs no CSRF token.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::NaiveDate;
use serde::Deserialize;

use super::certificates::{level_choices, Choice};
use super::error::PageError;
use super::progress::{milestone_view, status_label, MilestoneView};
use super::session::Visitor;
use super::ui::Ui;
use crate::domain::checks::Checks;
use crate::error::AppError;
use crate::services::eligibility::what_if;
use crate::state::AppState;

#[derive(Debug, Default, Deserialize)]
pub struct WhatIfQuery {
    #[serde(default)]
    level: String,
    #[serde(default)]
    occupation_code: String,
    #[serde(default)]
    issued_on: String,
}

#[derive(Template)]
#[template(path = "what_if.html")]
struct WhatIfPage {
    ui: Ui,
    levels: Vec<Choice>,
    form: WhatIfQuery,
    errors: Vec<(&'static str, &'static str)>,
    /// The date the supposition is evaluated at, once there is one.
    as_of: Option<String>,
    changes: Vec<MilestoneView>,
}

impl WhatIfPage {
    fn error_for(&self, field: &str) -> Option<&'static str> {
        self.errors
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| *m)
    }
}

/// `GET /what-if?level=technician&occupation_code=6-18-02-04&issued_on=2027-06-30`
pub async fn page(
    state: web::Data<AppState>,
    req: HttpRequest,
    visitor: Visitor,
    query: web::Query<WhatIfQuery>,
) -> Result<HttpResponse, PageError> {
    let session = visitor.signed_in()?;
    let learner_id = session.user.own_learner_id()?;
    let ui = Ui::signed(&req, &session);
    let form = query.into_inner();
    let mut page = WhatIfPage {
        levels: level_choices(&ui),
        errors: Vec::new(),
        as_of: None,
        changes: Vec::new(),
        form,
        ui,
    };
    if req.query_string().is_empty() {
        return Ok(super::html(StatusCode::OK).body(super::render(&page)?));
    }
    let ui = &page.ui;
    let mut checks = Checks::new();
    let issued_on = checks.with(
        "issued_on",
        NaiveDate::parse_from_str(page.form.issued_on.trim(), "%Y-%m-%d")
            .map_err(|_| "choose a date".to_owned()),
    );
    // Every field is checked, whichever are wrong.
    let fact = what_if::certificate_fact(
        &mut checks,
        "",
        None,
        &page.form.level,
        page.form.occupation_code.trim(),
        issued_on.unwrap_or_default(),
    );
    let certificate = match checks.done(|| issued_on.and(fact)) {
        Ok(certificate) => certificate,
        Err(AppError::Validation(errors)) => {
            page.errors = errors
                .iter()
                .map(|e| match e.field.as_str() {
                    "level" => ("level", ui.t("请选择等级。", "Choose a level.")),
                    "issued_on" => ("issued_on", ui.t("请选择日期。", "Choose a date.")),
                    _ => (
                        "occupation_code",
                        ui.t(
                            "职业编码形如 6-18-02-04。",
                            "An occupation code reads like 6-18-02-04.",
                        ),
                    ),
                })
                .collect();
            return Ok(super::html(StatusCode::UNPROCESSABLE_ENTITY).body(super::render(&page)?));
        }
        Err(other) => return Err(other.into()),
    };
    let parameters = state.parameters.clone();
    let hypotheses = what_if::Hypotheses {
        certificates: vec![certificate],
        employments: Vec::new(),
        as_of: None,
    };
    let supposed = state
        .db
        .read(move |conn| what_if::suppose(conn, &parameters, learner_id, hypotheses))
        .await?;
    page.as_of = Some(page.ui.date(supposed.as_of));
    page.changes = supposed
        .changes
        .iter()
        .filter_map(|change| {
            let after = change.after.as_ref()?;
            let mut view = milestone_view(&page.ui, after);
            view.before = Some(match &change.before {
                Some(before) => status_label(&page.ui, before.status),
                None => page.ui.t("无", "none"),
            });
            Some(view)
        })
        .collect();
    Ok(super::html(StatusCode::OK).body(super::render(&page)?))
}
