//! `sh489.technician_after_senior_worker` — apply for 技师 two years after 高级工.
//!
//! 沪人社职〔2021〕489号 五(七), last sentence: 承担新型技师学院功能的院校相关专业学生取得高级工技能等级证书
//! 两年后，可申报参加相关职业的技师职业资格鉴定或职业技能等级认定。

use super::as_of::AsOf;
use super::dates;
use super::facts::{level_text, CertificateFact, EnrollmentFact, Facts};
use super::milestone::{Check, Citation, Milestone, RuleInfo, Status, Text};
use super::params::{Param, Parameters};
use crate::domain::{CertificateKind, CertificateStatus, SkillLevel};

pub const ID: &str = "sh489.technician_after_senior_worker";

const HOLDING_YEARS: Param = crate::param!("sh489.technician_after_senior_worker.holding_years");

pub fn info() -> RuleInfo {
    RuleInfo {
        id: ID,
        title: Text::new(
            "取得高级工两年后可申报技师",
            "Apply for Technician two years after Senior Worker",
        ),
        citation: Citation::sh489("五(七)"),
    }
}

fn milestone(key: &str) -> Milestone {
    let i = info();
    Milestone::new(ID, key, i.title, i.citation)
}

/// The enrollment that makes `cert` count, if any: a related program at a designated college,
/// and (Interpretation `obtained_during_enrollment`) issued within the enrollment.
fn qualifying_enrollment<'a>(
    cert: &CertificateFact,
    enrollments: &[&'a EnrollmentFact],
    params: &Parameters,
) -> Option<&'a EnrollmentFact> {
    let during = params.flag(crate::param!("interpretation.obtained_during_enrollment"));
    enrollments.iter().copied().find(|e| {
        e.in_program_occupations(&cert.occupation) && (!during || e.covers(cert.issued_on))
    })
}

pub fn evaluate(facts: &Facts, params: &Parameters, as_of: &AsOf, out: &mut Vec<Milestone>) {
    let years = params.int(HOLDING_YEARS);
    let designated: Vec<&EnrollmentFact> = facts
        .enrollments
        .iter()
        .filter(|e| e.at_designated_college(params, None))
        .collect();
    if designated.is_empty() {
        let mut m = milestone("");
        for e in &facts.enrollments {
            m.check(Check::pass_if(
                false,
                Text::new(
                    "就读院校在就读期间承担新型技师学院功能",
                    "The college was a new-type technician college during the enrollment",
                ),
                e.describe(),
                "an enrollment overlapping a designation period",
            ));
        }
        out.push(m.with_status(Status::NotApplicable));
        return;
    }

    let senior_certs = facts.certificates.iter().filter(|c| {
        c.level == SkillLevel::SeniorWorker && c.kind != CertificateKind::PreparatoryTechnician
    });
    // The engine collects every rule's milestones in one list: count this rule's own.
    let first = out.len();
    let mut not_counting = Vec::new();
    for cert in senior_certs {
        let Some(enrollment) = qualifying_enrollment(cert, &designated, params) else {
            not_counting.push(cert);
            continue;
        };
        let key = match cert.id {
            Some(id) => crate::compose!("certificate:", id),
            None => crate::compose!("certificate:new:", cert.occupation, ":", cert.issued_on),
        };
        let mut m = milestone(&key);
        m.target = Some(SkillLevel::Technician.as_str().into());
        let label = facts.occupation_label(&cert.occupation);
        m.target_label = Some(Text::new(
            crate::compose!(label, " ", SkillLevel::Technician.name_zh()),
            crate::compose!(SkillLevel::Technician.name_en(), " in ", label),
        ));
        m.check(Check::pass_if(
            true,
            Text::new(
                "在新型技师学院相关专业就读",
                "Enrolled in a related program at a new-type technician college",
            ),
            enrollment.describe(),
            "program occupations include the certificate's occupation",
        ));
        m.check(Check::pass_if(
            true,
            Text::new(
                "高级工证书在就读期间取得",
                "Senior Worker certificate obtained during the enrollment",
            ),
            cert.issued_on.to_string(),
            crate::compose!(enrollment.start, " – ", enrollment.end),
        ));
        let verified = cert.status == CertificateStatus::Verified;
        m.check(Check::pass_if(
            verified,
            Text::new("高级工证书已核验", "Senior Worker certificate verified"),
            cert.status.as_str(),
            "verified",
        ));
        if !verified {
            let m = m.with_status(Status::NotMet).missing(match cert.status {
                CertificateStatus::Pending => Text::new(
                    "您的高级工证书正在等待核验，核验通过后计算申报日期",
                    "Your Senior Worker certificate is awaiting verification; the date follows once it is verified",
                ),
                _ => Text::new(
                    crate::compose!("高级工证书", cert.status, "（", cert.issued_on, "），需要一份有效的证书"),
                    crate::compose!("The Senior Worker certificate was ", cert.status, "; a valid one is needed"),
                ),
            });
            out.push(m);
            continue;
        }
        let holds_technician = facts
            .level_certificates()
            .any(|c| c.occupation == cert.occupation && c.level >= SkillLevel::Technician);
        let eligible = dates::add_years(cert.issued_on, years);
        m.check(Check::pass_if(
            as_of.reached(eligible),
            Text::new(
                "取得高级工后的持证年限",
                "Years holding the Senior Worker certificate",
            ),
            crate::compose!("issued ", cert.issued_on),
            crate::compose!(years, " years: on or after ", eligible),
        ));
        if holds_technician {
            m.eligible_from = Some(eligible);
            out.push(m.with_status(Status::Achieved));
        } else {
            out.push(m.dated(eligible, as_of));
        }
    }
    if out.len() == first {
        let mut m = milestone("").with_status(Status::NotMet).missing(Text::new(
            "在新型技师学院就读期间取得相关专业的高级工证书（经核验）",
            "A verified Senior Worker certificate in your program's occupation, obtained while enrolled at the new-type technician college",
        ));
        m.target = Some(SkillLevel::Technician.as_str().into());
        m.target_label = Some(level_text(SkillLevel::Technician));
        for cert in not_counting {
            m.check(Check::pass_if(
                false,
                Text::new(
                    "高级工证书与就读专业相关且在就读期间取得",
                    "Senior Worker certificate related to the program and obtained while enrolled",
                ),
                cert.label(),
                designated
                    .iter()
                    .map(|e| e.describe())
                    .collect::<Vec<_>>()
                    .join("; "),
            ));
        }
        out.push(m);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;
    use chrono::NaiveDate;

    /// The rule's milestones as a list (the engine appends them to a shared one).
    fn evaluate(facts: &Facts, params: &Parameters, as_of: NaiveDate) -> Vec<Milestone> {
        let mut out = Vec::new();
        super::evaluate(facts, params, &crate::rules::AsOf::new(as_of), &mut out);
        out
    }

    fn senior(issued: &str) -> CertificateFact {
        cert(
            1,
            SkillLevel::SeniorWorker,
            ELECTRICIAN,
            issued,
            CertificateStatus::Verified,
        )
    }

    #[test]
    fn met_two_years_after_the_certificate_on_the_anniversary_not_the_day_before() {
        let facts = student_at_designated_college(vec![senior("2023-06-30")]);
        let p = Parameters::seed();
        let m = &evaluate(&facts, &p, d("2025-06-29"))[0];
        assert_eq!(
            (m.status, m.eligible_from),
            (Status::Upcoming, Some(d("2025-06-30")))
        );
        let m = &evaluate(&facts, &p, d("2025-06-30"))[0];
        assert_eq!(
            (m.status, m.eligible_from),
            (Status::Met, Some(d("2025-06-30")))
        );
        assert_eq!(m.target.as_deref(), Some("technician"));
        assert_eq!(m.key, "sh489.technician_after_senior_worker/certificate:1");
    }

    #[test]
    fn twenty_ninth_of_february_lands_on_the_twenty_eighth() {
        let facts = student_at_designated_college(vec![senior("2024-02-29")]);
        let m = &evaluate(&facts, &Parameters::seed(), d("2026-02-28"))[0];
        assert_eq!(
            (m.status, m.eligible_from),
            (Status::Met, Some(d("2026-02-28")))
        );
    }

    #[test]
    fn a_certificate_one_day_outside_the_enrollment_does_not_count() {
        // The enrollment runs 2022-09-01 – 2025-06-30.
        let facts = student_at_designated_college(vec![senior("2025-07-01")]);
        let m = &evaluate(&facts, &Parameters::seed(), d("2028-01-01"))[0];
        assert_eq!(m.status, Status::NotMet);
        assert!(m
            .trace
            .iter()
            .any(|c| c.outcome == crate::rules::Outcome::Fail));
        // Under the other reading of the policy it counts.
        let p = Parameters::seed().with("interpretation.obtained_during_enrollment", false.into());
        assert_eq!(evaluate(&facts, &p, d("2028-01-01"))[0].status, Status::Met);
    }

    #[test]
    fn pending_rejected_and_revoked_certificates_do_not_count() {
        for status in [
            CertificateStatus::Pending,
            CertificateStatus::Rejected,
            CertificateStatus::Revoked,
        ] {
            let facts = student_at_designated_college(vec![cert(
                1,
                SkillLevel::SeniorWorker,
                ELECTRICIAN,
                "2023-06-30",
                status,
            )]);
            let m = &evaluate(&facts, &Parameters::seed(), d("2026-01-01"))[0];
            assert_eq!(m.status, Status::NotMet, "{status}");
            assert_eq!(m.eligible_from, None);
            assert!(!m.missing.is_empty());
        }
    }

    #[test]
    fn achieved_once_technician_is_held() {
        let facts = student_at_designated_college(vec![
            senior("2023-06-30"),
            cert(
                2,
                SkillLevel::Technician,
                ELECTRICIAN,
                "2025-12-01",
                CertificateStatus::Verified,
            ),
        ]);
        let m = &evaluate(&facts, &Parameters::seed(), d("2026-01-01"))[0];
        assert_eq!(m.status, Status::Achieved);
    }

    #[test]
    fn a_college_designated_only_after_the_learner_left_does_not_apply() {
        let mut facts = student_at_designated_college(vec![senior("2023-06-30")]);
        facts.enrollments[0].institution.designations = vec![(d("2025-09-01"), None)];
        let m = &evaluate(&facts, &Parameters::seed(), d("2026-01-01"))[0];
        assert_eq!(m.status, Status::NotApplicable);
    }

    #[test]
    fn a_policy_change_of_the_holding_years_moves_the_date() {
        let facts = student_at_designated_college(vec![senior("2023-06-30")]);
        let p = Parameters::seed().with(HOLDING_YEARS.definition().name, 3.into());
        let m = &evaluate(&facts, &p, d("2025-07-01"))[0];
        assert_eq!(
            (m.status, m.eligible_from),
            (Status::Upcoming, Some(d("2026-06-30")))
        );
    }

    #[test]
    fn one_milestone_per_qualifying_certificate() {
        let mut facts = student_at_designated_college(vec![
            senior("2023-06-30"),
            cert(
                2,
                SkillLevel::SeniorWorker,
                MECHANIC,
                "2024-01-10",
                CertificateStatus::Verified,
            ),
        ]);
        facts.enrollments[0]
            .related_occupations
            .push(MECHANIC.into());
        let ms = evaluate(&facts, &Parameters::seed(), d("2025-07-01"));
        assert_eq!(ms.len(), 2);
        assert_eq!(ms[1].eligible_from, Some(d("2026-01-10")));
    }

    #[test]
    fn only_senior_worker_skill_certificates_count_not_other_levels_or_preparatory_technician() {
        // A verified 中级工 in the program, and a 高级工 that is a 预备技师 certificate: neither
        // starts the two years; the milestone says what is missing instead.
        let mut preparatory = senior("2023-06-30");
        preparatory.id = Some(crate::domain::CertificateId(2));
        preparatory.kind = CertificateKind::PreparatoryTechnician;
        let facts = student_at_designated_college(vec![
            cert(
                1,
                SkillLevel::IntermediateWorker,
                ELECTRICIAN,
                "2023-01-10",
                CertificateStatus::Verified,
            ),
            preparatory,
        ]);
        let ms = evaluate(&facts, &Parameters::seed(), d("2026-01-01"));
        assert_eq!(ms.len(), 1);
        assert_eq!(ms[0].key, ID);
        assert_eq!((ms[0].status, ms[0].eligible_from), (Status::NotMet, None));
    }

    #[test]
    fn a_pending_certificate_is_told_it_awaits_verification() {
        let facts = student_at_designated_college(vec![cert(
            1,
            SkillLevel::SeniorWorker,
            ELECTRICIAN,
            "2023-06-30",
            CertificateStatus::Pending,
        )]);
        let m = &evaluate(&facts, &Parameters::seed(), d("2026-01-01"))[0];
        assert_eq!(m.missing.len(), 1);
        assert!(m.missing[0].zh.contains("等待核验"), "{:?}", m.missing);
        assert!(m.missing[0].en.contains("awaiting verification"));
        let revoked = student_at_designated_college(vec![cert(
            1,
            SkillLevel::SeniorWorker,
            ELECTRICIAN,
            "2023-06-30",
            CertificateStatus::Revoked,
        )]);
        let m = &evaluate(&revoked, &Parameters::seed(), d("2026-01-01"))[0];
        assert!(!m.missing[0].zh.contains("等待核验"));
    }

    #[test]
    fn the_trace_of_the_holding_years_fails_the_day_before_and_passes_on_the_anniversary() {
        let facts = student_at_designated_college(vec![senior("2023-06-30")]);
        let holding = |as_of: &str| {
            let m = &evaluate(&facts, &Parameters::seed(), d(as_of))[0];
            m.trace
                .iter()
                .find(|c| c.condition.en.starts_with("Years holding"))
                .map(|c| c.outcome)
        };
        assert_eq!(holding("2025-06-29"), Some(crate::rules::Outcome::Fail));
        assert_eq!(holding("2025-06-30"), Some(crate::rules::Outcome::Pass));
        assert_eq!(holding("2025-07-01"), Some(crate::rules::Outcome::Pass));
    }

    #[test]
    fn the_fallback_is_this_rules_own_even_after_other_rules_milestones() {
        // The list the engine passes may already hold other rules' milestones.
        let facts = student_at_designated_college(vec![]);
        let mut out = vec![milestone("someone-else")];
        super::evaluate(
            &facts,
            &Parameters::seed(),
            &AsOf::new(d("2026-01-01")),
            &mut out,
        );
        assert_eq!(out.len(), 2);
        assert_eq!((out[1].key.as_str(), out[1].status), (ID, Status::NotMet));
    }
}
