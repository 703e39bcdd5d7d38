//! The OpenAPI document, generated from the handlers' annotations. `skillpath openapi` writes
//! it to `openapi/openapi.json`; a test fails when the committed file differs.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::api::problem::Problem;
use crate::api::{
    account_links, audit, auth, awards, calendar, certificates, cohorts, designations,
    institutions, learners, milestones, notifications, occupations, ops, personal_data, records,
    shares, targets, users, verifications,
};
use crate::error::FieldError;

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
        account_links::request_password_reset,
        account_links::invite_learner,
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
        designations::create_application,
        designations::list_applications,
        designations::get_application,
        designations::update_application,
        designations::take_step,
        designations::create_partnership,
        designations::list_partnerships,
        designations::end_partnership,
        targets::kpis,
        targets::city_kpis,
        targets::city_kpis_csv,
        targets::create_delivery,
        targets::list_deliveries,
        targets::create_teacher,
        targets::list_teachers,
        targets::create_development,
        targets::list_development,
        targets::import_deliveries,
        targets::import_teachers,
        targets::import_development,
        targets::import_partnerships,
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
        awards::create_award,
        awards::list_awards,
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
        personal_data::my_export,
        personal_data::learner_export,
        personal_data::request_correction,
        personal_data::my_corrections,
        personal_data::list_corrections,
        personal_data::decide_correction,
        personal_data::deletion,
        personal_data::request_deletion,
        personal_data::cancel_deletion,
        personal_data::erase_learner,
        calendar::feed_state,
        calendar::enable_feed,
        calendar::disable_feed,
        calendar::feed,
        shares::consent_text,
        shares::create_share,
        shares::list_shares,
        shares::get_share,
        shares::revoke_share,
        shares::list_accesses,
        verifications::verify_code,
        verifications::share_status,
        verifications::jwks,
        verifications::employee,
        verifications::list_keys,
        verifications::rotate_key,
    ),
    components(schemas(Problem, FieldError, crate::domain::OutboxStatus)),
    modifiers(&BearerSecurity),
    tags(
        (name = "auth", description = "Login sessions: access and refresh tokens"),
        (name = "users", description = "Accounts and roles"),
        (name = "occupations", description = "The occupation catalog (职业分类大典) and its flags"),
        (name = "institutions", description = "Institutions, 新型技师学院 designations, programs"),
        (name = "designations", description = "Applications to become a 新型技师学院 and their steps (policy 六); partnerships"),
        (name = "learners", description = "Learners and their enrollments, employment and awards"),
        (name = "certificates", description = "Certificates and their verification"),
        (name = "cohorts", description = "Cohorts and bulk enrollment from CSV"),
        (name = "audit", description = "The append-only audit log"),
        (name = "notifications", description = "The learner's in-app inbox"),
        (name = "personal data", description = "Learners' rights over their personal information (PIPL): a copy, corrections, deletion"),
        (name = "calendar", description = "The learner's private calendar feed of milestone dates (iCalendar)"),
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

/// The document: the handlers' annotations, completed with the answers every operation of a
/// kind can give (see [`complete`]).
pub fn document() -> anyhow::Result<serde_json::Value> {
    let mut value = serde_json::to_value(ApiDoc::openapi())?;
    complete(&mut value);
    Ok(value)
}

/// The document as committed: pretty JSON with a final newline.
pub fn spec_json() -> anyhow::Result<String> {
    Ok(serde_json::to_string_pretty(&document()?)? + "\n")
}

/// The statuses the edge of the service can answer for any operation of a kind, whatever its
/// handler does: documented here once rather than on every handler, so that none is forgotten.
/// A protected operation can answer 401; one with a body 400 (not JSON, not an object, not the
/// expected shape), 413, 415 and 422 (e.g. a control character in a field), and a CSV body 408;
/// one with query parameters 400; every one 422 (a control character in any query parameter) and
/// 500; one with a path parameter 404; every one but `/health` 503 (the database out of reach,
/// with `Retry-After`). `limit` is documented with its bounds.
fn complete(doc: &mut serde_json::Value) {
    use serde_json::{json, Value};
    let problem = |description: &str| {
        json!({
            "description": description,
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
        })
    };
    let retry_after = json!({"Retry-After": {"schema": {"type": "integer", "format": "int64", "minimum": 0},
        "description": "Seconds to wait before trying again"}});
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (_method, op) in item.iter_mut() {
            let Some(op) = op.as_object_mut() else {
                continue;
            };
            let protected = op
                .get("security")
                .and_then(Value::as_array)
                .is_some_and(|s| !s.is_empty());
            let body_types: Vec<String> = op
                .get("requestBody")
                .and_then(|b| b.get("content"))
                .and_then(Value::as_object)
                .map(|c| c.keys().cloned().collect())
                .unwrap_or_default();
            let csv_body = body_types.iter().any(|t| t == "text/csv");
            // Bodies the service parses (a form such as the one-click unsubscribe is not read).
            let has_body = csv_body || body_types.iter().any(|t| t == "application/json");
            let params = op
                .get("parameters")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let in_where = |place: &str| params.iter().any(|p| p["in"] == place);
            let (has_path, has_query) = (in_where("path"), in_where("query"));
            if let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) {
                for p in params
                    .iter_mut()
                    .filter(|p| p["name"] == "limit" && p["in"] == "query")
                {
                    p["schema"] = json!({"type": ["integer", "null"], "format": "int64",
                        "minimum": 1, "maximum": crate::api::pagination::MAX_LIMIT});
                }
            }
            let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
                continue;
            };
            let mut add = |status: &str, response: Value| {
                responses.entry(status.to_owned()).or_insert(response);
            };
            if protected {
                add("401", problem("No valid access token"));
                add("403", problem("The caller's role may not do this"));
            }
            if has_body {
                add(
                    "400",
                    problem("The body is malformed, not an object, or not the expected shape"),
                );
                add("413", problem("The body is larger than the limit"));
                add("415", problem("The body is not of the expected media type"));
                add("422", problem("A field is invalid (named in `errors`)"));
            }
            if csv_body {
                add("408", problem("The file did not arrive in time"));
            }
            if has_query {
                add("400", problem("The query string does not parse"));
            }
            // Any query parameter, listed or not, holding a control character is refused.
            add(
                "422",
                problem("A query parameter is invalid (named in `errors`)"),
            );
            if has_path {
                add("404", problem("No such resource"));
            }
            add(
                "500",
                problem("An error on the service's side (quote the x-request-id header)"),
            );
            if path != "/health" {
                let mut unavailable = problem("The database is out of reach or busy; try again");
                unavailable["headers"] = retry_after.clone();
                add("503", unavailable);
            }
            if let Some(too_many) = responses.get_mut("429") {
                too_many["headers"] = retry_after.clone();
            }
        }
    }
}

/// Where the committed document lives, relative to the repository root.
pub const SPEC_PATH: &str = "openapi/openapi.json";
