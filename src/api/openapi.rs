//! The OpenAPI document, generated from the handlers' annotations. `skillpath openapi` writes
//! it to `openapi/openapi.json`; a test fails when the committed file differs.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::api::{
    audit, auth, certificates, cohorts, institutions, learners, milestones, notifications,
    occupations, ops, records, shares, users,
};
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
        occupations::create_occupation,
        occupations::list_occupations,
        occupations::get_occupation,
        occupations::import_occupations_csv,
        institutions::create_institution,
        institutions::list_institutions,
        institutions::get_institution,
        institutions::update_institution,
        institutions::create_designation,
        institutions::end_designation,
        institutions::create_program,
        institutions::list_programs,
        institutions::get_program,
        learners::create_learner,
        learners::list_learners,
        learners::get_learner,
        learners::update_learner,
        records::create_enrollment,
        records::list_enrollments,
        records::update_enrollment,
        records::create_employment,
        records::list_employments,
        records::end_employment,
        records::create_award,
        records::list_awards,
        certificates::create_certificate,
        certificates::list_learner_certificates,
        certificates::list_certificates,
        certificates::get_certificate,
        certificates::decide,
        cohorts::create_cohort,
        cohorts::list_cohorts,
        cohorts::get_cohort,
        cohorts::import_enrollments,
        audit::list_audit,
        milestones::list_rules,
        milestones::list_parameters,
        milestones::add_parameter,
        milestones::learner_milestones,
        milestones::learner_events,
        milestones::my_progress,
        milestones::what_if,
        notifications::inbox,
        notifications::mark_read,
        notifications::mark_all_read,
        notifications::get_preferences,
        notifications::put_preferences,
        notifications::list_outbox,
        notifications::retry_outbox,
        notifications::unsubscribe_page,
        notifications::unsubscribe,
        shares::create_share,
        shares::list_shares,
        shares::get_share,
        shares::revoke_share,
        shares::list_accesses,
        shares::verify_code,
        shares::share_status,
        shares::jwks,
        shares::employee,
        shares::list_keys,
        shares::rotate_key,
    ),
    components(schemas(Problem, FieldError)),
    modifiers(&BearerSecurity),
    tags(
        (name = "auth", description = "Login sessions: access and refresh tokens"),
        (name = "users", description = "Accounts and roles"),
        (name = "occupations", description = "The occupation catalog (职业分类大典) and its flags"),
        (name = "institutions", description = "Institutions, 新型技师学院 designations, programs"),
        (name = "learners", description = "Learners and their enrollments, employment and awards"),
        (name = "certificates", description = "Certificates and their verification"),
        (name = "cohorts", description = "Cohorts and bulk enrollment from CSV"),
        (name = "audit", description = "The append-only audit log"),
        (name = "notifications", description = "The learner's in-app inbox"),
        (name = "shares", description = "Sharing verified records with HR: codes, signed statements, the access log"),
        (name = "rules", description = "The eligibility rules, their parameters, and learners' milestones"),
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
