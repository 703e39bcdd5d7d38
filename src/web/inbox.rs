//! The inbox: the notices Skillpath sent, newest first, unread ones marked, with the unread
//! count; reading the page does not mark them read, the button does.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::error::PageError;
use super::session::Visitor;
use super::ui::Ui;
use crate::db::{self, notifications};
use crate::services::notifications as notices;
use crate::state::AppState;

/// Messages shown at once.
const PAGE: i64 = 50;

struct MessageView {
    /// The page the notice speaks of.
    page: &'static str,
    title: String,
    body: String,
    when: String,
    unread: bool,
}

#[derive(Template)]
#[template(path = "inbox.html")]
struct InboxPage {
    ui: Ui,
    csrf: String,
    unread: i64,
    messages: Vec<MessageView>,
}

/// `GET /inbox`
pub async fn page(
    state: web::Data<AppState>,
    req: HttpRequest,
    visitor: Visitor,
) -> Result<HttpResponse, PageError> {
    let session = visitor.signed_in()?;
    let owner = session.user.inbox_owner();
    let ui = Ui::signed(&req, &session);
    let (rows, unread) = state
        .db
        .read(move |conn| notices::inbox(conn, owner, None, PAGE))
        .await?;
    let messages = rows
        .into_iter()
        .map(|r| MessageView {
            page: crate::notify::page_of(r.learner_id.is_some(), r.category),
            title: ui.t(&r.title_zh, &r.title_en).to_owned(),
            body: ui.t(&r.body_zh, &r.body_en).to_owned(),
            when: ui.day_of(r.created_at),
            unread: r.read_at.is_none(),
        })
        .collect();
    let page = InboxPage {
        ui,
        csrf: session.csrf_token,
        unread,
        messages,
    };
    Ok(super::html(actix_web::http::StatusCode::OK).body(super::render(&page)?))
}

#[derive(Deserialize)]
pub struct ReadAllForm {
    csrf: String,
}

/// `POST /inbox/read`: marks every message read.
pub async fn read_all(
    state: web::Data<AppState>,
    visitor: Visitor,
    form: web::Form<ReadAllForm>,
) -> Result<HttpResponse, PageError> {
    let session = visitor.signed_in()?;
    session.check_csrf(&form.csrf)?;
    let owner = session.user.inbox_owner();
    state
        .db
        .write(move |conn| Ok(notifications::mark_all_read(conn, owner, db::now())?))
        .await?;
    Ok(super::see_other("/inbox"))
}
