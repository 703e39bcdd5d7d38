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

/// The milestone of `occupation` among the rule's.
fn of<'m>(ms: &'m [Milestone], occupation: &str) -> &'m Milestone {
    let prefix = format!("national.next_level/{occupation}/");
    ms.iter()
        .find(|m| m.key.starts_with(&prefix))
        .expect("a milestone for the occupation")
}

#[test]
fn only_the_held_level_in_the_occupation_starts_the_years() {
    // An earlier 中级工 in the occupation and an earlier 高级工 in another do not date 技师.
    let facts = employee(
        vec![
            verified(1, SkillLevel::IntermediateWorker, ELECTRICIAN, "2016-01-01"),
            verified(2, SkillLevel::SeniorWorker, MECHANIC, "2017-01-01"),
            verified(3, SkillLevel::SeniorWorker, ELECTRICIAN, "2020-05-10"),
        ],
        vec![job(ELECTRICIAN, "2015-01-01", None)],
    );
    let ms = evaluate(&facts, &Parameters::seed(), d("2024-01-01"));
    let m = of(&ms, ELECTRICIAN);
    assert_eq!(
        (m.status, m.route.as_deref(), m.eligible_from),
        (Status::Upcoming, Some("a"), Some(d("2024-05-09")))
    );
}

/// The trace's check of the schooling condition of `route`.
fn schooling_check<'m>(m: &'m Milestone, route: &str) -> &'m Check {
    m.trace
        .iter()
        .find(|c| {
            c.route.as_deref() == Some(route) && c.condition.en.contains("of a related program")
        })
        .expect("the schooling check")
}

#[test]
fn a_student_still_enrolled_counts_from_graduation_when_no_final_year_is_allowed() {
    // 技师 route (b) needs graduation itself (no final-year students): the enrolled student's
    // date is the end of the enrollment, not twelve months before it.
    let mut facts = employee(
        vec![verified(
            1,
            SkillLevel::SeniorWorker,
            ELECTRICIAN,
            "2022-01-10",
        )],
        vec![job(ELECTRICIAN, "2019-01-01", None)],
    );
    facts.enrollments.push(enrollment(
        institution(InstitutionKind::SeniorTechnicalSchool, None),
        "2021-09-01",
        "2025-06-30",
        EnrollmentStatus::Enrolled,
    ));
    let m = &evaluate(&facts, &Parameters::seed(), d("2024-01-01"))[0];
    assert_eq!(
        (m.status, m.route.as_deref(), m.eligible_from),
        (Status::Upcoming, Some("b"), Some(d("2025-06-30")))
    );
    let check = schooling_check(m, "b");
    assert_eq!(
        (check.outcome, check.observed.as_ref()),
        (Outcome::Fail, "from 2025-06-30")
    );
    // Withdrawn: no date at all; route (a) remains.
    facts.enrollments[0].status = EnrollmentStatus::Withdrawn;
    let m = &evaluate(&facts, &Parameters::seed(), d("2024-01-01"))[0];
    assert_eq!(m.route.as_deref(), Some("a"));
    assert_eq!(schooling_check(m, "b").observed, "no such enrollment");
    // Graduated: met since graduation.
    facts.enrollments[0].status = EnrollmentStatus::Graduated;
    facts.enrollments[0].end = d("2023-06-30");
    let m = &evaluate(&facts, &Parameters::seed(), d("2024-01-01"))[0];
    let check = schooling_check(m, "b");
    assert_eq!(
        (check.outcome, check.observed.as_ref()),
        (Outcome::Pass, "since 2023-06-30")
    );
}

#[test]
fn junior_worker_route_b_needs_a_completed_related_apprenticeship() {
    let apprenticeship = |class_type, status, occupation: &str| {
        let mut e = college_graduate(InstitutionKind::Enterprise, "2025-08-31");
        e.class_type = class_type;
        e.status = status;
        e.program_occupation = occupation.into();
        e
    };
    for enrollment in [
        apprenticeship(ClassType::Regular, EnrollmentStatus::Graduated, ELECTRICIAN),
        apprenticeship(
            ClassType::Apprenticeship,
            EnrollmentStatus::Enrolled,
            ELECTRICIAN,
        ),
        apprenticeship(
            ClassType::Apprenticeship,
            EnrollmentStatus::Graduated,
            MECHANIC,
        ),
    ] {
        let mut facts = employee(vec![], vec![job(ELECTRICIAN, "2025-09-01", None)]);
        facts.enrollments.push(enrollment);
        let m = &evaluate(&facts, &Parameters::seed(), d("2025-10-01"))[0];
        assert_eq!(
            (m.status, m.route.as_deref()),
            (Status::Upcoming, Some("a"))
        );
    }
}

#[test]
fn the_degree_check_passes_only_for_a_related_major() {
    let degree_check = |majors: Vec<String>| {
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
        facts.learner.education_occupations = majors;
        let m = &evaluate(&facts, &Parameters::seed(), d("2024-01-01"))[0];
        let check = m
            .trace
            .iter()
            .find(|c| c.route.as_deref() == Some("c") && c.condition.en.starts_with("大专"))
            .expect("the degree check")
            .outcome;
        (check, m.route.clone())
    };
    assert_eq!(
        degree_check(vec![ELECTRICIAN.into()]),
        (Outcome::Pass, Some("c".into()))
    );
    assert_eq!(
        degree_check(vec![ROBOTICS.into()]),
        (Outcome::Fail, Some("a".into()))
    );
}

#[test]
fn technician_route_c_needs_a_verified_preparatory_certificate() {
    // A technician-college graduate with 高级工 and a pending 预备技师: route (c) stays closed
    // (two years of work would have opened it on 2024-06-29); route (b) needs three.
    let mut facts = employee(
        vec![
            verified(1, SkillLevel::SeniorWorker, ELECTRICIAN, "2022-01-10"),
            CertificateFact {
                kind: CertificateKind::PreparatoryTechnician,
                ..cert(
                    2,
                    SkillLevel::SeniorWorker,
                    ELECTRICIAN,
                    "2022-06-20",
                    CertificateStatus::Pending,
                )
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
        (m.status, m.route.as_deref()),
        (Status::Upcoming, Some("b"))
    );
}

#[test]
fn a_met_route_is_preferred_to_an_upcoming_one_listed_after_it() {
    // 中级工: route (a) met long ago; route (c), a final-year student, only upcoming.
    let mut facts = employee(
        vec![verified(
            1,
            SkillLevel::JuniorWorker,
            ELECTRICIAN,
            "2016-01-01",
        )],
        vec![job(ELECTRICIAN, "2015-01-01", None)],
    );
    facts.enrollments.push(enrollment(
        institution(InstitutionKind::TechnicalSchool, None),
        "2022-09-01",
        "2025-06-30",
        EnrollmentStatus::Enrolled,
    ));
    let m = &evaluate(&facts, &Parameters::seed(), d("2024-06-29"))[0];
    assert_eq!(m.status, Status::Met);
    assert_eq!(m.route.as_deref(), Some("a"));
}
