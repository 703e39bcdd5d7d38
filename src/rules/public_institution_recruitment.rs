//! `sh489.public_institution_recruitment` — 中职 graduates with 高级工 or above.
//!
//! 沪人社职〔2021〕489号 五(七), first sentence: 承担新型技师学院功能的中职学校相关专业全日制应届毕业生取得
//! 高级以上技能等级证书的，在参加事业单位招聘、职称评定等方面按国家有关规定享受政策。

use super::as_of::AsOf;
use super::facts::{Facts, Window};
use super::milestone::{Check, Citation, Milestone, RuleInfo, Status, Text};
use super::params::Parameters;
use crate::domain::{InstitutionKind, SkillLevel};

pub const ID: &str = "sh489.public_institution_recruitment";

pub fn info() -> RuleInfo {
    RuleInfo {
        id: ID,
        title: Text::new("中职应届毕业生事业单位招聘、职称评定政策", "Public-institution recruitment and title evaluation for secondary vocational graduates"),
        citation: Citation::sh489("五(七)"),
    }
}

pub fn evaluate(facts: &Facts, params: &Parameters, as_of: &AsOf, out: &mut Vec<Milestone>) {
    let applicable = facts.enrollments.iter().filter(|e| {
        e.institution.kind == InstitutionKind::SecondaryVocational
            && e.full_time
            && e.at_designated_college(params, None)
    });
    for e in applicable {
        let i = info();
        let mut m = Milestone::new(
            ID,
            &crate::compose!("enrollment:", e.id),
            i.title,
            i.citation,
        );
        m.target = Some("public_institution_recruitment".into());
        m.target_label = Some(Text::new(
            "事业单位招聘、职称评定按国家规定享受政策",
            "Policy treatment in public-institution recruitment and title evaluation",
        ));
        m.check(Check::pass_if(
            true,
            Text::new(
                "新型技师学院中职学校全日制学生",
                "Full-time student of a secondary vocational new-type technician college",
            ),
            e.describe(),
            "secondary_vocational, full time",
        ));
        let cert = facts
            .level_certificates()
            .filter(|c| {
                c.level >= SkillLevel::SeniorWorker && e.in_program_occupations(&c.occupation)
            })
            .min_by_key(|c| c.issued_on);
        m.check(Check::pass_if(
            cert.is_some(),
            Text::new(
                "取得相关职业高级工及以上证书",
                "A related certificate at Senior Worker or above",
            ),
            cert.map_or_else(|| "none verified".into(), |c| c.label()),
            "senior_worker or above, verified",
        ));
        let Some(cert) = cert else {
            out.push(m.with_status(Status::NotMet).missing(Text::new(
                "相关职业高级工及以上证书（经核验）",
                "a verified related certificate at Senior Worker or above",
            )));
            continue;
        };
        let window = e.fresh_graduate_window(params, as_of, cert.issued_on);
        m.check(Check::pass_if(
            matches!(window, Window::Open(..)),
            Text::new("应届毕业生", "Fresh graduate of this enrollment"),
            crate::compose!(e.status, " (", e.describe(), "), graduation ", e.end),
            crate::compose!("graduated, until ", e.fresh_graduate_until(params)),
        ));
        out.push(match window {
            Window::Open(from, until) => {
                m.open_until = Some(until);
                m.dated(from, as_of)
            }
            Window::Opens(from) => m.dated(from, as_of),
            Window::Closed(until) => {
                m.open_until = Some(until);
                m.with_status(Status::Lapsed)
            }
            Window::Missed => m.with_status(Status::NotMet).missing(Text::new(
                "须在应届毕业期内取得证书并毕业",
                "The certificate and graduation must fall within the fresh-graduate window",
            )),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::EnrollmentStatus;
    use crate::rules::testing::*;
    use chrono::NaiveDate;

    /// The rule's milestones as a list (the engine appends them to a shared one).
    fn evaluate(facts: &Facts, params: &Parameters, as_of: NaiveDate) -> Vec<Milestone> {
        let mut out = Vec::new();
        super::evaluate(facts, params, &crate::rules::AsOf::new(as_of), &mut out);
        out
    }

    fn secondary(
        status: EnrollmentStatus,
        certificates: Vec<crate::rules::facts::CertificateFact>,
    ) -> Facts {
        let mut facts = student_at_designated_college(certificates);
        facts.enrollments[0].institution.kind = InstitutionKind::SecondaryVocational;
        facts.enrollments[0].status = status;
        facts
    }

    #[test]
    fn met_from_graduation_until_the_end_of_that_year_then_lapsed() {
        let facts = secondary(
            EnrollmentStatus::Graduated,
            vec![verified(
                1,
                SkillLevel::SeniorWorker,
                ELECTRICIAN,
                "2025-01-10",
            )],
        );
        let p = Parameters::seed();
        let m = &evaluate(&facts, &p, d("2025-07-01"))[0];
        assert_eq!(
            (m.status, m.eligible_from, m.open_until),
            (Status::Met, Some(d("2025-06-30")), Some(d("2025-12-31")))
        );
        assert_eq!(evaluate(&facts, &p, d("2025-12-31"))[0].status, Status::Met);
        assert_eq!(
            evaluate(&facts, &p, d("2026-01-01"))[0].status,
            Status::Lapsed
        );
    }

    #[test]
    fn upcoming_at_graduation_while_still_enrolled() {
        let facts = secondary(
            EnrollmentStatus::Enrolled,
            vec![verified(
                1,
                SkillLevel::SeniorWorker,
                ELECTRICIAN,
                "2025-01-10",
            )],
        );
        let m = &evaluate(&facts, &Parameters::seed(), d("2025-03-01"))[0];
        assert_eq!(
            (m.status, m.eligible_from),
            (Status::Upcoming, Some(d("2025-06-30")))
        );
    }

    #[test]
    fn only_senior_worker_or_above_in_the_programs_occupations() {
        for certificate in [
            verified(1, SkillLevel::IntermediateWorker, ELECTRICIAN, "2025-01-10"),
            verified(1, SkillLevel::SeniorWorker, MECHANIC, "2025-01-10"),
        ] {
            let facts = secondary(EnrollmentStatus::Graduated, vec![certificate]);
            assert_eq!(
                evaluate(&facts, &Parameters::seed(), d("2025-07-01"))[0].status,
                Status::NotMet
            );
        }
    }

    #[test]
    fn not_met_without_the_certificate_and_not_applicable_elsewhere() {
        let facts = secondary(EnrollmentStatus::Graduated, vec![]);
        assert_eq!(
            evaluate(&facts, &Parameters::seed(), d("2025-07-01"))[0].status,
            Status::NotMet
        );
        let facts = student_at_designated_college(vec![]);
        assert!(evaluate(&facts, &Parameters::seed(), d("2025-07-01")).is_empty());
    }
}
