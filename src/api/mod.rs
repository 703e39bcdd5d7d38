//! The HTTP API: every route is registered here, in one place; one file per resource.

pub mod account_links;
pub mod audit;
pub mod auth;
pub mod awards;
pub mod body;
pub mod boundary;
pub mod calendar;
pub mod certificates;
pub mod cohorts;
pub mod designations;
pub mod extractor;
pub mod institutions;
pub mod learners;
pub mod middleware;
pub mod milestones;
pub mod notifications;
pub mod occupations;
pub mod openapi;
pub mod ops;
pub mod pagination;
pub mod personal_data;
pub mod problem;
pub mod records;
pub mod shares;
pub mod targets;
pub mod users;
pub mod verifications;

use actix_web::{web, HttpResponse};

use crate::error::AppError;

/// A resource whose unsupported methods answer 405 as a problem document.
fn resource(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(boundary::method_not_allowed))
}

/// Liveness, readiness and metrics: what a lone worker serves too.
pub fn operations_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/health").route(web::get().to(ops::health)))
        .service(resource("/ready").route(web::get().to(ops::ready)))
        .service(resource("/metrics").route(web::get().to(ops::metrics)));
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.configure(operations_routes)
        .service(resource("/.well-known/jwks.json").route(web::get().to(verifications::jwks)))
        .service(resource("/docs").route(web::get().to(docs_redirect)))
        .service(
            web::scope("/api/v1")
                // A learner's most frequent request first: resources are tried in order, and each
                // one with a `{…}` segment before it costs a regular-expression match.
                .service(resource("/me/progress").route(web::get().to(milestones::my_progress)))
                .service(resource("/auth/login").route(web::post().to(auth::login)))
                .service(resource("/auth/refresh").route(web::post().to(auth::refresh)))
                .service(resource("/auth/logout").route(web::post().to(auth::logout)))
                .service(
                    resource("/auth/password-reset")
                        .route(web::post().to(account_links::request_password_reset)),
                )
                .service(
                    resource("/learners/{id}/invitation")
                        .route(web::post().to(account_links::invite_learner)),
                )
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
                .service(
                    resource("/occupations")
                        .route(web::post().to(occupations::create_occupation))
                        .route(web::get().to(occupations::list_occupations)),
                )
                .service(
                    resource("/occupations/import")
                        .route(web::post().to(occupations::import_occupations_csv)),
                )
                .service(
                    resource("/occupations/{code}")
                        .route(web::get().to(occupations::get_occupation)),
                )
                .service(
                    resource("/institutions")
                        .route(web::post().to(institutions::create_institution))
                        .route(web::get().to(institutions::list_institutions)),
                )
                .service(
                    resource("/institutions/{id}")
                        .route(web::get().to(institutions::get_institution))
                        .route(web::patch().to(institutions::update_institution)),
                )
                .service(
                    resource("/institutions/{id}/designations")
                        .route(web::post().to(institutions::create_designation)),
                )
                .service(
                    resource("/institutions/{id}/designations/{designation_id}/end")
                        .route(web::post().to(institutions::end_designation)),
                )
                .service(
                    resource("/institutions/{id}/designation-applications")
                        .route(web::post().to(designations::create_application))
                        .route(web::get().to(designations::list_applications)),
                )
                .service(
                    resource("/institutions/{id}/designation-applications/{application_id}")
                        .route(web::get().to(designations::get_application))
                        .route(web::put().to(designations::update_application)),
                )
                .service(
                    resource("/institutions/{id}/designation-applications/{application_id}/steps")
                        .route(web::post().to(designations::take_step)),
                )
                .service(
                    resource("/institutions/{id}/partnerships/import")
                        .route(web::post().to(targets::import_partnerships)),
                )
                .service(
                    resource("/institutions/{id}/partnerships")
                        .route(web::post().to(designations::create_partnership))
                        .route(web::get().to(designations::list_partnerships)),
                )
                .service(
                    resource("/institutions/{id}/partnerships/{partnership_id}/end")
                        .route(web::post().to(designations::end_partnership)),
                )
                .service(resource("/institutions/{id}/kpis").route(web::get().to(targets::kpis)))
                .service(resource("/kpis").route(web::get().to(targets::city_kpis)))
                .service(resource("/kpis/export").route(web::get().to(targets::city_kpis_csv)))
                .service(
                    resource("/institutions/{id}/training-deliveries/import")
                        .route(web::post().to(targets::import_deliveries)),
                )
                .service(
                    resource("/institutions/{id}/training-deliveries")
                        .route(web::post().to(targets::create_delivery))
                        .route(web::get().to(targets::list_deliveries)),
                )
                .service(
                    resource("/institutions/{id}/teachers/import")
                        .route(web::post().to(targets::import_teachers)),
                )
                .service(
                    resource("/institutions/{id}/teachers")
                        .route(web::post().to(targets::create_teacher))
                        .route(web::get().to(targets::list_teachers)),
                )
                .service(
                    resource("/institutions/{id}/teacher-development/import")
                        .route(web::post().to(targets::import_development)),
                )
                .service(
                    resource("/institutions/{id}/teacher-development")
                        .route(web::post().to(targets::create_development))
                        .route(web::get().to(targets::list_development)),
                )
                .service(
                    resource("/institutions/{id}/programs")
                        .route(web::post().to(institutions::create_program))
                        .route(web::get().to(institutions::list_programs)),
                )
                .service(resource("/programs/{id}").route(web::get().to(institutions::get_program)))
                .service(
                    resource("/learners")
                        .route(web::post().to(learners::create_learner))
                        .route(web::get().to(learners::list_learners)),
                )
                .service(
                    resource("/learners/{id}")
                        .route(web::get().to(learners::get_learner))
                        .route(web::patch().to(learners::update_learner)),
                )
                .service(
                    resource("/learners/{id}/enrollments")
                        .route(web::post().to(records::create_enrollment))
                        .route(web::get().to(records::list_enrollments)),
                )
                .service(
                    resource("/learners/{id}/enrollments/{enrollment_id}")
                        .route(web::patch().to(records::update_enrollment)),
                )
                .service(
                    resource("/learners/{id}/employments")
                        .route(web::post().to(records::create_employment))
                        .route(web::get().to(records::list_employments)),
                )
                .service(
                    resource("/learners/{id}/employments/{employment_id}")
                        .route(web::patch().to(records::end_employment)),
                )
                .service(
                    resource("/learners/{id}/awards")
                        .route(web::post().to(awards::create_award))
                        .route(web::get().to(awards::list_awards)),
                )
                .service(
                    resource("/learners/{id}/certificates")
                        .route(web::post().to(certificates::create_certificate))
                        .route(web::get().to(certificates::list_learner_certificates)),
                )
                .service(
                    resource("/certificates").route(web::get().to(certificates::list_certificates)),
                )
                .service(
                    resource("/certificates/{id}")
                        .route(web::get().to(certificates::get_certificate)),
                )
                .service(
                    resource("/certificates/{id}/verification")
                        .route(web::post().to(certificates::decide)),
                )
                .service(
                    resource("/cohorts")
                        .route(web::post().to(cohorts::create_cohort))
                        .route(web::get().to(cohorts::list_cohorts)),
                )
                .service(resource("/cohorts/{id}").route(web::get().to(cohorts::get_cohort)))
                .service(
                    resource("/cohorts/{id}/enrollments/import")
                        .route(web::post().to(cohorts::import_enrollments)),
                )
                .service(resource("/audit").route(web::get().to(audit::list_audit)))
                .service(resource("/rules").route(web::get().to(milestones::list_rules)))
                .service(
                    resource("/rules/parameters")
                        .route(web::get().to(milestones::list_parameters))
                        .route(web::post().to(milestones::add_parameter)),
                )
                .service(
                    resource("/learners/{id}/milestones")
                        .route(web::get().to(milestones::learner_milestones)),
                )
                .service(
                    resource("/learners/{id}/milestone-events")
                        .route(web::get().to(milestones::learner_events)),
                )
                .service(resource("/me/what-if").route(web::post().to(milestones::what_if)))
                .service(resource("/me/notifications").route(web::get().to(notifications::inbox)))
                .service(
                    resource("/me/shares")
                        .route(web::post().to(shares::create_share))
                        .route(web::get().to(shares::list_shares)),
                )
                .service(resource("/me/shares/consent").route(web::get().to(shares::consent_text)))
                .service(resource("/me/shares/{id}").route(web::get().to(shares::get_share)))
                .service(
                    resource("/me/shares/{id}/revoke").route(web::post().to(shares::revoke_share)),
                )
                .service(resource("/me/share-accesses").route(web::get().to(shares::list_accesses)))
                .service(
                    resource("/verifications/status/{status_id}")
                        .route(web::get().to(verifications::share_status)),
                )
                .service(
                    resource("/verifications/{code}")
                        .route(web::get().to(verifications::verify_code)),
                )
                .service(
                    resource("/employees/{learner_id}")
                        .route(web::get().to(verifications::employee)),
                )
                .service(
                    resource("/admin/signing-keys").route(web::get().to(verifications::list_keys)),
                )
                .service(
                    resource("/admin/signing-keys/rotate")
                        .route(web::post().to(verifications::rotate_key)),
                )
                .service(
                    resource("/admin/notifications")
                        .route(web::get().to(notifications::list_outbox)),
                )
                .service(
                    resource("/admin/notifications/{id}/retry")
                        .route(web::post().to(notifications::retry_outbox)),
                )
                .service(
                    resource("/unsubscribe/{token}")
                        .route(web::get().to(notifications::unsubscribe_page))
                        .route(web::post().to(notifications::unsubscribe)),
                )
                .service(
                    resource("/me/notifications/read-all")
                        .route(web::post().to(notifications::mark_all_read)),
                )
                .service(
                    resource("/me/notifications/{id}/read")
                        .route(web::post().to(notifications::mark_read)),
                )
                .service(
                    resource("/me/notification-preferences")
                        .route(web::get().to(notifications::get_preferences))
                        .route(web::put().to(notifications::put_preferences)),
                )
                .service(
                    resource("/me/corrections")
                        .route(web::post().to(personal_data::request_correction))
                        .route(web::get().to(personal_data::my_corrections)),
                )
                .service(
                    resource("/corrections").route(web::get().to(personal_data::list_corrections)),
                )
                .service(
                    resource("/corrections/{id}/decision")
                        .route(web::post().to(personal_data::decide_correction)),
                )
                .service(
                    resource("/me/deletion")
                        .route(web::get().to(personal_data::deletion))
                        .route(web::post().to(personal_data::request_deletion))
                        .route(web::delete().to(personal_data::cancel_deletion)),
                )
                .service(
                    resource("/learners/{id}/erasure")
                        .route(web::post().to(personal_data::erase_learner)),
                )
                .service(resource("/me/export").route(web::get().to(personal_data::my_export)))
                .service(
                    resource("/learners/{id}/export")
                        .route(web::get().to(personal_data::learner_export)),
                )
                .service(
                    resource("/me/calendar")
                        .route(web::get().to(calendar::feed_state))
                        .route(web::post().to(calendar::enable_feed))
                        .route(web::delete().to(calendar::disable_feed)),
                )
                .service(resource("/calendar/{token}.ics").route(web::get().to(calendar::feed)))
                .service(resource("/me/password").route(web::post().to(users::change_password)))
                .default_service(web::to(not_found)),
        );
}

pub async fn not_found() -> Result<HttpResponse, AppError> {
    Err(AppError::NotFound { what: "resource" })
}

/// Swagger UI lives under `/docs/`; the bare path leads there.
async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((actix_web::http::header::LOCATION, "/docs/"))
        .finish()
}
