//! The HTTP API: every route is registered here, in one place; one file per resource.

pub mod auth;
pub mod openapi;
pub mod ops;
pub mod pagination;
pub mod users;

use actix_web::{web, HttpResponse};

use crate::error::ApiError;

/// A resource whose unsupported methods answer 405 as a problem document.
fn resource(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(method_not_allowed))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/health").route(web::get().to(ops::health)))
        .service(resource("/ready").route(web::get().to(ops::ready)))
        .service(resource("/metrics").route(web::get().to(ops::metrics)))
        .service(resource("/docs").route(web::get().to(docs_redirect)))
        .service(
            web::scope("/api/v1")
                .service(resource("/auth/login").route(web::post().to(auth::login)))
                .service(resource("/auth/refresh").route(web::post().to(auth::refresh)))
                .service(resource("/auth/logout").route(web::post().to(auth::logout)))
                .service(
                    resource("/users")
                        .route(web::post().to(users::create_user))
                        .route(web::get().to(users::list_users)),
                )
                .service(
                    resource("/users/{id}")
                        .route(web::get().to(users::get_user))
                        .route(web::patch().to(users::update_user)),
                )
                .service(resource("/me").route(web::get().to(users::me)))
                .service(resource("/me/password").route(web::post().to(users::change_password)))
                .default_service(web::to(not_found)),
        );
}

pub async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound { what: "resource" })
}

async fn method_not_allowed() -> Result<HttpResponse, ApiError> {
    Err(ApiError::MethodNotAllowed)
}

/// Swagger UI lives under `/docs/`; the bare path leads there.
async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((actix_web::http::header::LOCATION, "/docs/"))
        .finish()
}
