//! The national next-level rule on the cases of its clauses.

use super::*;
use crate::domain::EnrollmentStatus;
use crate::rules::testing::*;

/// The rule's milestones as a list (the engine appends them to a shared one).
fn evaluate(facts: &Facts, params: &Parameters, as_of: NaiveDate) -> Vec<Milestone> {
    let mut out = Vec::new();
    super::evaluate(facts, params, &crate::rules::AsOf::new(as_of), &mut out);
    out
}

fn employee(
    certificates: Vec<CertificateFact>,
    jobs: Vec<crate::rules::facts::EmploymentFact>,
) -> Facts {
    let mut facts = Facts {
        certificates,
        employments: jobs,
        ..Facts::default()
    };
    catalog(&mut facts);
    facts
}

#[test]
fn technician_four_years_after_senior_worker_with_continuous_work() {
    // RULES.md: D = 2020-05-10, N = 4 → 2024-05-09.
    let facts = employee(
        vec![verified(
            1,
            SkillLevel::SeniorWorker,
            ELECTRICIAN,
            "2020-05-10",
        )],
        vec![job(ELECTRICIAN, "2018-01-01", None)],
    );
    let p = Parameters::seed();
    let m = &evaluate(&facts, &p, d("2024-05-08"))[0];
    assert_eq!(
        (m.status, m.eligible_from, m.route.as_deref()),
        (Status::Upcoming, Some(d("2024-05-09")), Some("a"))
    );
    let m = &evaluate(&facts, &p, d("2024-05-09"))[0];
    assert_eq!(
        (m.status, m.eligible_from),
        (Status::Met, Some(d("2024-05-09")))
    );
    assert_eq!(m.target.as_deref(), Some("technician"));
    assert_eq!(m.key, "national.next_level/6-18-02-04/technician");
}

#[test]
fn interrupted_and_overlapping_jobs_count_their_days_once() {
    let facts = employee(
        vec![verified(
            1,
            SkillLevel::SeniorWorker,
            ELECTRICIAN,
            "2020-01-01",
        )],
        vec![
            job(ELECTRICIAN, "2020-01-01", Some("2021-12-31")),
            job(ELECTRICIAN, "2021-06-01", Some("2021-12-31")),
            job(MECHANIC, "2022-01-01", Some("2022-12-31")), // unrelated: does not count
        ],
    );
    let m = &evaluate(&facts, &Parameters::seed(), d("2025-01-01"))[0];
    assert_eq!(m.status, Status::NotMet, "{:?}", m.trace);
    assert!(m.missing.iter().any(|t| t.en.contains("more days")));
    // A current related job projects the date from today.
    let mut facts = facts;
    facts.employments.push(job(ELECTRICIAN, "2024-01-01", None));
    let m = &evaluate(&facts, &Parameters::seed(), d("2025-01-01"))[0];
    assert_eq!(m.status, Status::Upcoming);
}

#[test]
fn per_occupation_year_counts_override_the_template() {
    let facts = employee(
        vec![verified(
            1,
            SkillLevel::SeniorWorker,
            ELECTRICIAN,
            "2020-05-10",
        )],
        vec![job(ELECTRICIAN, "2018-01-01", None)],
    );
    let p = Parameters::seed().with_occupation(
        "national.next_level.technician.years_after_senior_worker",
        ELECTRICIAN,
        3.into(),
    );
    let m = &evaluate(&facts, &p, d("2024-01-01"))[0];
    assert_eq!(
        (m.status, m.eligible_from),
        (Status::Met, Some(d("2023-05-10")))
    );
}

#[test]
fn intermediate_by_graduating_from_a_technical_school() {
    let mut facts = employee(
        vec![verified(
            1,
            SkillLevel::JuniorWorker,
            ELECTRICIAN,
            "2023-01-01",
        )],
        vec![],
    );
    facts.enrollments.push(enrollment(
        institution(InstitutionKind::TechnicalSchool, None),
        "2022-09-01",
        "2025-06-30",
        EnrollmentStatus::Enrolled,
    ));
    // Final-year student from 2024-06-30 (12 months before the end).
    let m = &evaluate(&facts, &Parameters::seed(), d("2024-06-29"))[0];
    assert_eq!(
        (m.status, m.eligible_from, m.route.as_deref()),
        (Status::Upcoming, Some(d("2024-06-30")), Some("c"))
    );
    let m = &evaluate(&facts, &Parameters::seed(), d("2024-07-01"))[0];
    assert_eq!((m.status, m.route.as_deref()), (Status::Met, Some("c")));
    // An unassessed secondary vocational school does not open route (c).
    facts.enrollments[0].institution.kind = InstitutionKind::SecondaryVocational;
    assert_eq!(
        evaluate(&facts, &Parameters::seed(), d("2024-07-01"))[0].status,
        Status::NotMet
    );
    facts.enrollments[0].institution.assessed = true;
    assert_eq!(
        evaluate(&facts, &Parameters::seed(), d("2024-07-01"))[0].status,
        Status::Met
    );
}

#[test]
fn the_top_level_is_achieved_and_a_job_without_a_certificate_points_to_junior_worker() {
    let facts = employee(
        vec![verified(
            1,
            SkillLevel::SeniorTechnician,
            ELECTRICIAN,
            "2020-01-01",
        )],
        vec![job(ROBOTICS, "2025-03-01", None)],
    );
    let ms = evaluate(&facts, &Parameters::seed(), d("2025-12-01"));
    assert_eq!(ms[0].status, Status::Achieved);
    assert_eq!(ms[1].target.as_deref(), Some("junior_worker"));
    assert_eq!(
        (ms[1].status, ms[1].eligible_from),
        (Status::Upcoming, Some(d("2026-02-28")))
    );
}

#[test]
fn pending_certificates_open_nothing() {
    let facts = employee(
        vec![cert(
            1,
            SkillLevel::SeniorWorker,
            ELECTRICIAN,
            "2019-01-01",
            CertificateStatus::Pending,
        )],
        vec![job(ELECTRICIAN, "2015-01-01", None)],
    );
    let ms = evaluate(&facts, &Parameters::seed(), d("2025-01-01"));
    // No verified certificate: the job points to 初级工, which is met by the work.
    assert_eq!(ms.len(), 1);
    assert_eq!(ms[0].target.as_deref(), Some("junior_worker"));
    assert_eq!(ms[0].status, Status::Met);
}

fn college_graduate(kind: InstitutionKind, end: &str) -> crate::rules::facts::EnrollmentFact {
    enrollment(
        institution(kind, None),
        "2019-09-01",
        end,
        EnrollmentStatus::Graduated,
    )
}

#[test]
fn senior_worker_routes_b_and_c() {
    // (b) 中级工 + graduate of a technician college in a related program.
    let mut facts = employee(
        vec![verified(
            1,
            SkillLevel::IntermediateWorker,
            ELECTRICIAN,
            "2021-06-30",
        )],
        vec![],
    );
    facts.enrollments.push(college_graduate(
        InstitutionKind::TechnicianCollege,
        "2022-06-30",
    ));
    let m = &evaluate(&facts, &Parameters::seed(), d("2023-01-01"))[0];
    assert_eq!(
        (m.status, m.route.as_deref(), m.eligible_from),
        (Status::Met, Some("b"), Some(d("2022-06-30")))
    );
    // A higher-vocational college counts only when assessed.
    facts.enrollments[0].institution.kind = InstitutionKind::HigherVocational;
    assert_eq!(
        evaluate(&facts, &Parameters::seed(), d("2023-01-01"))[0].status,
        Status::NotMet
    );
    // (c) 大专 in a related major + 中级工 + 2 years of related work after it.
    let mut facts = employee(
        vec![verified(
            1,
            SkillLevel::IntermediateWorker,
            ELECTRICIAN,
            "2021-06-30",
        )],
        vec![job(ELECTRICIAN, "2021-01-01", None)],
    );
    facts.learner.education_level = Some(EducationLevel::Associate);
    facts.learner.education_occupations = vec![ELECTRICIAN.into()];
    let m = &evaluate(&facts, &Parameters::seed(), d("2024-01-01"))[0];
    assert_eq!(
        (m.status, m.route.as_deref(), m.eligible_from),
        (Status::Met, Some("c"), Some(d("2023-06-30")))
    );
    // Without the degree the education check is unknown and route (a) needs five years.
    facts.learner.education_level = None;
    let m = &evaluate(&facts, &Parameters::seed(), d("2024-01-01"))[0];
    assert_eq!(
        (m.status, m.route.as_deref()),
        (Status::Upcoming, Some("a"))
    );
    assert!(m.trace.iter().any(|c| c.outcome == Outcome::Unknown));
}

#[test]
fn technician_routes_b_and_c_count_total_work() {
    // (b) 高级工 + graduate of a senior technical school + 3 years of related work in total.
    let mut facts = employee(
        vec![verified(
            1,
            SkillLevel::SeniorWorker,
            ELECTRICIAN,
            "2022-01-10",
        )],
        vec![
            job(ELECTRICIAN, "2020-07-01", Some("2021-06-30")),
            job(ELECTRICIAN, "2022-07-01", None),
        ],
    );
    facts.enrollments.push(college_graduate(
        InstitutionKind::SeniorTechnicalSchool,
        "2022-06-30",
    ));
    // 365 days before the gap, then 730 more from 2022-07-01 (29 Feb 2024 is one of them) → 2024-06-29.
    let m = &evaluate(&facts, &Parameters::seed(), d("2024-07-01"))[0];
    assert_eq!(
        (m.status, m.route.as_deref(), m.eligible_from),
        (Status::Met, Some("b"), Some(d("2024-06-29")))
    );
    // (c) 预备技师 + graduate of a technician college + 2 years of related work.
    let mut facts = employee(
        vec![
            verified(1, SkillLevel::SeniorWorker, ELECTRICIAN, "2022-01-10"),
            CertificateFact {
                kind: CertificateKind::PreparatoryTechnician,
                ..verified(2, SkillLevel::SeniorWorker, ELECTRICIAN, "2022-06-20")
            },
        ],
        vec![job(ELECTRICIAN, "2022-07-01", None)],
    );
    facts.enrollments.push(college_graduate(
        InstitutionKind::TechnicianCollege,
        "2022-06-30",
    ));
    let m = &evaluate(&facts, &Parameters::seed(), d("2024-07-01"))[0];
    assert_eq!(
        (m.status, m.route.as_deref(), m.eligible_from),
        (Status::Met, Some("c"), Some(d("2024-06-29")))
    );
}

#[test]
fn senior_technician_four_years_after_technician_and_junior_by_apprenticeship() {
    let facts = employee(
        vec![verified(
            1,
            SkillLevel::Technician,
            ELECTRICIAN,
            "2021-03-01",
        )],
        vec![job(ELECTRICIAN, "2015-01-01", None)],
    );
    let m = &evaluate(&facts, &Parameters::seed(), d("2025-03-01"))[0];
    assert_eq!(
        (m.status, m.target.as_deref(), m.eligible_from),
        (
            Status::Met,
            Some("senior_technician"),
            Some(d("2025-02-28"))
        )
    );

    let mut facts = employee(vec![], vec![job(ELECTRICIAN, "2025-09-01", None)]);
    let mut apprenticeship = college_graduate(InstitutionKind::Enterprise, "2025-08-31");
    apprenticeship.class_type = ClassType::Apprenticeship;
    facts.enrollments.push(apprenticeship);
    let m = &evaluate(&facts, &Parameters::seed(), d("2025-10-01"))[0];
    assert_eq!(
        (m.status, m.route.as_deref(), m.eligible_from),
        (Status::Met, Some("b"), Some(d("2025-08-31")))
    );
}
