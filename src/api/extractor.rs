//! The one way a handler learns who is calling: the bearer token is checked, then the account
//! itself, so that disabling a user or changing their password cuts access at once.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};

use crate::auth::jwt::AccessClaims;
use crate::auth::AuthUser;
use crate::db::users;
use crate::domain::UserId;
use crate::error::AppError;
use crate::state::AppState;

fn bearer_token(req: &HttpRequest) -> Result<String, AppError> {
    let value = req.headers().get(header::AUTHORIZATION).ok_or_else(|| {
        AppError::unauthenticated(
            "missing_token",
            "Send Authorization: Bearer <access token>.",
        )
    })?;
    let value = value.to_str().map_err(|_| {
        AppError::unauthenticated("invalid_token", "The access token is not valid.")
    })?;
    let mut parts = value.splitn(2, ' ');
    match (parts.next(), parts.next()) {
        (Some(scheme), Some(token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim().to_owned())
        }
        _ => Err(AppError::unauthenticated(
            "missing_token",
            "Send Authorization: Bearer <access token>.",
        )),
    }
}

/// A bearer token whose signature, audience and expiry are checked, its account not read yet:
/// for a handler that reads the account in the statement that answers it
/// ([`AuthUser::of_account`] then decides, as for every other handler).
pub struct VerifiedToken {
    pub claims: AccessClaims,
    pub user_id: UserId,
}

impl VerifiedToken {
    fn of(req: &HttpRequest) -> Result<(Self, web::Data<AppState>), AppError> {
        let state = req
            .app_data::<web::Data<AppState>>()
            .cloned()
            .ok_or_else(|| AppError::internal("extractor", "application state missing"))?;
        let claims = state.tokens.verify(&bearer_token(req)?)?;
        let user_id: UserId = claims.sub.parse().map_err(|_| {
            AppError::unauthenticated(
                "token_revoked",
                "This access token is no longer valid; log in again.",
            )
        })?;
        Ok((Self { claims, user_id }, state))
    }
}

impl FromRequest for VerifiedToken {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _payload: &mut actix_web::dev::Payload) -> Self::Future {
        std::future::ready(Self::of(req).map(|(token, _)| token))
    }
}

impl FromRequest for AuthUser {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut actix_web::dev::Payload) -> Self::Future {
        let verified = VerifiedToken::of(req);
        Box::pin(async move {
            let (token, state) = verified?;
            let user_id = token.user_id;
            let account = state
                .db
                .read(move |conn| Ok(users::find(conn, user_id)?))
                .await?;
            AuthUser::of_account(&token.claims, account)
        })
    }
}
