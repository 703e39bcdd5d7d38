//! `sh489.professional_title` — 职称 routes for graduates with 高级工 or above.
//!
//! 沪人社职〔2021〕489号 五(七), third sentence: 承担新型技师学院功能的院校中取得高级工以上技能等级证书的相关
//! 专业毕业生，符合条件的可申报相关系列专业技术职称评审; with the national bridging rule 关于在工程技术领域实现
//! 高技能人才与工程技术人才职业发展贯通的意见（试行） (2018): 高级工 + 2 years → 助理工程师; 技师 + 3 years →
//! 工程师; 高级技师 + 4 years → 高级工程师 (year counts Unconfirmed, parameters).

use chrono::NaiveDate;

use super::as_of::AsOf;
use super::dates;
use super::facts::{level_text, CertificateFact, Facts};
use super::milestone::{Check, Citation, Milestone, RuleInfo, Status, Text};
use super::params::{Param, Parameters};
use crate::domain::SkillLevel;

pub const ID: &str = "sh489.professional_title";

pub fn info() -> RuleInfo {
    RuleInfo {
        id: ID,
        title: Text::new(
            "毕业生申报专业技术职称",
            "Professional title route for graduates",
        ),
        citation: Citation::sh489("五(七)"),
    }
}

const TITLES: [(&str, &str, &str, SkillLevel, Param); 3] = [
    (
        "assistant_engineer",
        "助理工程师",
        "Assistant Engineer",
        SkillLevel::SeniorWorker,
        crate::param!("sh489.professional_title.assistant_engineer_years"),
    ),
    (
        "engineer",
        "工程师",
        "Engineer",
        SkillLevel::Technician,
        crate::param!("sh489.professional_title.engineer_years"),
    ),
    (
        "senior_engineer",
        "高级工程师",
        "Senior Engineer",
        SkillLevel::SeniorTechnician,
        crate::param!("sh489.professional_title.senior_engineer_years"),
    ),
];

pub fn evaluate(facts: &Facts, params: &Parameters, as_of: &AsOf, out: &mut Vec<Milestone>) {
    let graduated: Vec<_> = facts
        .enrollments
        .iter()
        .filter(|e| e.graduated_by(as_of) && e.at_designated_college(params, None))
        .collect();
    // Certificates of 高级工 or above in a graduated program's occupations.
    let certs: Vec<&CertificateFact> = facts
        .level_certificates()
        .filter(|c| {
            c.level >= SkillLevel::SeniorWorker
                && graduated
                    .iter()
                    .any(|e| e.in_program_occupations(&c.occupation))
        })
        .collect();
    if graduated.is_empty() || certs.is_empty() {
        return;
    }
    let work_year = params.work_year_days();
    for (title, zh, en, level, years_param) in TITLES {
        let i = info();
        let mut m = Milestone::new(ID, title, i.title, i.citation);
        m.target = Some(title.into());
        m.target_label = Some(Text::new(zh, en));
        let years = params.int(years_param);
        // The earliest day any of the certificates completes the years.
        let mut best: Option<NaiveDate> = None;
        for cert in certs.iter().copied().filter(|c| c.level >= level) {
            let spans = facts.related_spans(&cert.occupation, params);
            let progress = dates::accumulate_work(
                &spans,
                Some(cert.issued_on),
                u64::from(years) * work_year,
                as_of,
            );
            m.check(Check::pass_if(
                progress.reached_on.is_some_and(|d| as_of.reached(d)),
                Text::new(
                    "取得证书后从事相关技术工作的年限",
                    "Years of related technical work after the certificate",
                ),
                crate::compose!(cert.label(), "; ", progress.days, " days"),
                crate::compose!(years, " years (", u64::from(years) * work_year, " days)"),
            ));
            if let Some(day) = progress.reached_on {
                best = Some(best.map_or(day, |b| b.min(day)));
            }
        }
        match best {
            Some(day) => out.push(m.dated(day, as_of)),
            None if certs.iter().any(|c| c.level >= level) => {
                out.push(m.with_status(Status::NotMet).missing(Text::new(
                    crate::compose!(
                        "取得",
                        level.name_zh(),
                        "后累计从事相关技术工作",
                        years,
                        "年"
                    ),
                    crate::compose!(years, " years of related work after ", level.name_en()),
                )))
            }
            None => {
                let needed = level_text(level);
                out.push(m.with_status(Status::NotMet).missing(Text::new(
                    crate::compose!("需要", needed.zh, "证书"),
                    crate::compose!("needs a ", needed.en, " certificate"),
                )));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::EnrollmentStatus;
    use crate::rules::testing::*;

    /// The rule's milestones as a list (the engine appends them to a shared one).
    fn evaluate(facts: &Facts, params: &Parameters, as_of: NaiveDate) -> Vec<Milestone> {
        let mut out = Vec::new();
        super::evaluate(facts, params, &crate::rules::AsOf::new(as_of), &mut out);
        out
    }

    #[test]
    fn assistant_engineer_two_years_after_senior_worker_for_graduates() {
        let mut facts = student_at_designated_college(vec![verified(
            1,
            SkillLevel::SeniorWorker,
            ELECTRICIAN,
            "2025-01-10",
        )]);
        facts.enrollments[0].status = EnrollmentStatus::Graduated;
        facts.employments.push(job(ELECTRICIAN, "2025-07-01", None));
        let ms = evaluate(&facts, &Parameters::seed(), d("2026-01-01"));
        assert_eq!(ms.len(), 3);
        // Work counted from the day after issue, but the job only began 2025-07-01: 730 days → 2027-06-30.
        assert_eq!(
            (ms[0].status, ms[0].eligible_from),
            (Status::Upcoming, Some(d("2027-06-30")))
        );
        assert_eq!(ms[1].status, Status::NotMet);
        assert!(ms[1].missing[0].en.contains("Technician"));
    }

    #[test]
    fn the_certificate_completing_the_years_first_dates_the_title() {
        // A 技师 certificate (work counted from 2024-01-01) and a 高级工 (from 2025-01-01): for
        // 助理工程师 either counts, and the earlier end of the two years wins whichever comes first.
        let technician = verified(2, SkillLevel::Technician, ELECTRICIAN, "2023-12-31");
        let senior_worker = verified(1, SkillLevel::SeniorWorker, ELECTRICIAN, "2024-12-31");
        for certificates in [
            vec![technician.clone(), senior_worker.clone()],
            vec![senior_worker, technician],
        ] {
            let mut facts = student_at_designated_college(certificates);
            facts.enrollments[0].status = EnrollmentStatus::Graduated;
            facts.employments.push(job(ELECTRICIAN, "2020-01-01", None));
            let ms = evaluate(&facts, &Parameters::seed(), d("2025-07-01"));
            assert_eq!(ms[0].eligible_from, Some(d("2025-12-30")));
        }
    }

    #[test]
    fn without_the_years_the_learner_is_told_which_they_lack() {
        let mut facts = student_at_designated_college(vec![verified(
            1,
            SkillLevel::SeniorWorker,
            ELECTRICIAN,
            "2025-01-10",
        )]);
        facts.enrollments[0].status = EnrollmentStatus::Graduated;
        let ms = evaluate(&facts, &Parameters::seed(), d("2026-01-01"));
        let missing: Vec<(Status, &str)> = ms
            .iter()
            .map(|m| (m.status, m.missing[0].en.as_ref()))
            .collect();
        assert_eq!(
            missing,
            [
                (
                    Status::NotMet,
                    "2 years of related work after Senior Worker (Level 3)"
                ),
                (Status::NotMet, "needs a Technician (Level 2) certificate"),
                (
                    Status::NotMet,
                    "needs a Senior Technician (Level 1) certificate"
                ),
            ]
        );
    }

    #[test]
    fn only_certificates_of_senior_worker_or_above_in_the_programs_occupations() {
        for certificate in [
            verified(1, SkillLevel::IntermediateWorker, ELECTRICIAN, "2025-01-10"),
            verified(1, SkillLevel::SeniorWorker, MECHANIC, "2025-01-10"),
        ] {
            let mut facts = student_at_designated_college(vec![certificate]);
            facts.enrollments[0].status = EnrollmentStatus::Graduated;
            assert!(evaluate(&facts, &Parameters::seed(), d("2026-01-01")).is_empty());
        }
    }

    #[test]
    fn only_graduates() {
        let facts = student_at_designated_college(vec![verified(
            1,
            SkillLevel::SeniorWorker,
            ELECTRICIAN,
            "2025-01-10",
        )]);
        assert!(evaluate(&facts, &Parameters::seed(), d("2026-01-01")).is_empty());
    }
}
