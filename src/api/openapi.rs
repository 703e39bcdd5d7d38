//! The OpenAPI document, generated from the handlers' annotations. `skillpath openapi` writes
//! it to `openapi/openapi.json`; a test fails when the committed file differs.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::api::{auth, ops, users};
use crate::error::{FieldError, Problem};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Skillpath API",
        description = "Follows vocational learners in Shanghai through their national skill-level \
certificates and computes the milestones policy attaches to them. Errors are RFC 9457 \
`application/problem+json` documents with a stable `code`.",
        license(name = "MIT OR Apache-2.0")
    ),
    paths(
        ops::health,
        ops::ready,
        ops::metrics,
        auth::login,
        auth::refresh,
        auth::logout,
        users::create_user,
        users::list_users,
        users::get_user,
        users::update_user,
        users::me,
        users::change_password,
    ),
    components(schemas(Problem, FieldError)),
    modifiers(&BearerSecurity),
    tags(
        (name = "auth", description = "Login sessions: access and refresh tokens"),
        (name = "users", description = "Accounts and roles"),
        (name = "operations", description = "Health, readiness and metrics")
    )
)]
pub struct ApiDoc;

struct BearerSecurity;

impl Modify for BearerSecurity {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("Access token from POST /api/v1/auth/login"))
                    .build(),
            ),
        );
    }
}

/// The document as committed: pretty JSON with a final newline.
pub fn spec_json() -> anyhow::Result<String> {
    Ok(ApiDoc::openapi().to_pretty_json()? + "\n")
}

/// Where the committed document lives, relative to the repository root.
pub const SPEC_PATH: &str = "openapi/openapi.json";
