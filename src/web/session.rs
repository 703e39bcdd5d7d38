//! The session cookie of the pages and the extractor that reads it.
//!
//! The cookie holds a random token (HttpOnly, SameSite=Lax, Secure when the public address is
//! https); the database holds its hash (`auth::web_session`). State-changing forms carry the
//! session's CSRF token; the login form, before any session, carries a token that must equal
//! the one in a short-lived cookie of its own.

use std::future::Future;
use std::pin::Pin;

use actix_web::cookie::{time::Duration as CookieDuration, Cookie, SameSite};
use actix_web::{web, FromRequest, HttpRequest};

use crate::auth::web_session::{self, WebSession};
use crate::db;
use crate::error::AppError;
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "sp_session";
pub const LOGIN_COOKIE: &str = "sp_login";
/// How long a page session lasts from login.
pub const SESSION_HOURS: i64 = 12;

/// A cookie of the pages: HttpOnly, Lax, whole site, Secure when served over https.
pub fn cookie(
    state: &AppState,
    name: &'static str,
    value: String,
    max_age: i64,
) -> Cookie<'static> {
    Cookie::build(name, value)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.settings.notify.public_url.starts_with("https://"))
        .max_age(CookieDuration::seconds(max_age))
        .finish()
}

/// A cookie that tells the browser to forget one.
pub fn removal(state: &AppState, name: &'static str) -> Cookie<'static> {
    cookie(state, name, String::new(), 0)
}

/// Whoever is looking at a page: their live session, if any.
pub struct Visitor {
    pub session: Option<WebSession>,
}

impl Visitor {
    /// The session, or `Unauthenticated` (the pages answer it with the login page).
    pub fn signed_in(self) -> Result<WebSession, AppError> {
        self.session
            .ok_or_else(|| AppError::unauthenticated("no_session", "Log in to see this page."))
    }
}

impl FromRequest for Visitor {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = req.cookie(SESSION_COOKIE).map(|c| c.value().to_owned());
        Box::pin(async move {
            let Some(token) = token.filter(|t| !t.is_empty()) else {
                return Ok(Visitor { session: None });
            };
            let state = state
                .ok_or_else(|| AppError::internal("extractor", "application state missing"))?;
            let session = state
                .db
                .read(move |conn| web_session::find(conn, &token, db::now()))
                .await?;
            Ok(Visitor { session })
        })
    }
}
