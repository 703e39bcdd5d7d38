//! `sh489.graduate_settlement_preference` — 落户 preference for non-Shanghai graduates with 技师.
//!
//! 沪人社职〔2021〕489号 五(七), second sentence: 承担新型技师学院功能的本科高职学院或高职院校相关专业外省市户籍
//! 全日制应届毕业生取得技师以上技能等级证书、符合职业工种目录需求，且从事相应岗位工作的，在年度应届毕业生落户
//! 政策中予以倾斜。

use super::as_of::AsOf;
use super::facts::{shown, Facts, Window};
use super::milestone::{Check, Citation, Milestone, Outcome, RuleInfo, Status, Text};
use super::params::Parameters;
use crate::domain::{Hukou, InstitutionKind, SkillLevel};

pub const ID: &str = "sh489.graduate_settlement_preference";

pub fn info() -> RuleInfo {
    RuleInfo {
        id: ID,
        title: Text::new(
            "外省市户籍应届毕业生落户倾斜",
            "Settlement preference for non-Shanghai fresh graduates",
        ),
        citation: Citation::sh489("五(七)"),
    }
}

pub fn evaluate(facts: &Facts, params: &Parameters, as_of: &AsOf, out: &mut Vec<Milestone>) {
    let applicable = facts.enrollments.iter().filter(|e| {
        matches!(
            e.institution.kind,
            InstitutionKind::HigherVocational | InstitutionKind::UndergraduateVocational
        ) && e.full_time
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
        m.target = Some("graduate_settlement_preference".into());
        m.target_label = Some(Text::new(
            "年度应届毕业生落户政策倾斜",
            "Preference in the year's fresh-graduate settlement scoring",
        ));
        let hukou = facts.learner.hukou;
        m.check(Check::new(
            Text::new("外省市户籍", "Hukou outside Shanghai"),
            hukou.map_or("not recorded".into(), |h| h.as_str().to_owned()),
            "other",
            match hukou {
                None => Outcome::Unknown,
                Some(Hukou::Other) => Outcome::Pass,
                Some(Hukou::Shanghai) => Outcome::Fail,
            },
        ));
        match hukou {
            Some(Hukou::Shanghai) => {
                out.push(m.with_status(Status::NotApplicable));
                continue;
            }
            None => {
                out.push(m.with_status(Status::NeedsInfo).missing(Text::new(
                    "请补充户籍信息",
                    "Record your hukou (Shanghai or elsewhere)",
                )));
                continue;
            }
            Some(Hukou::Other) => {}
        }
        let cert = facts
            .level_certificates()
            .filter(|c| {
                c.level >= SkillLevel::Technician
                    && facts.occupation(&c.occupation).technician_catalog
            })
            .min_by_key(|c| c.issued_on);
        m.check(Check::pass_if(
            cert.is_some(),
            Text::new(
                "技师及以上证书且职业在技师目录内",
                "Technician or above, in an occupation of the technician catalog",
            ),
            cert.map_or_else(|| "none verified".into(), |c| c.label()),
            "technician or above; technician_catalog",
        ));
        let post = cert.and_then(|c| facts.current_post_matching(&c.occupation, as_of, params));
        m.check(Check::pass_if(
            post.is_some(),
            Text::new("从事相应岗位工作", "Working in the matching post"),
            post.map_or_else(
                || crate::compose!("current job: ", shown(None)),
                |p| p.describe(),
            ),
            "a current job in the certificate's occupation",
        ));
        let (Some(cert), Some(post)) = (cert, post) else {
            let mut m = m.with_status(Status::NotMet);
            if cert.is_none() {
                m = m.missing(Text::new("技师目录内职业的技师及以上证书（经核验）", "a verified Technician (or higher) certificate in an occupation of the technician catalog"));
            } else {
                m = m.missing(Text::new(
                    "在证书对应岗位就业",
                    "a job in the certificate's occupation",
                ));
            }
            out.push(m);
            continue;
        };
        let window = e.fresh_graduate_window(params, as_of, cert.issued_on.max(post.start));
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
            Window::Missed => m
                .with_status(Status::NotMet)
                .missing(Text::new("须为应届毕业生", "Only fresh graduates qualify")),
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

    fn graduate(hukou: Option<Hukou>) -> Facts {
        let mut facts = student_at_designated_college(vec![verified(
            1,
            SkillLevel::Technician,
            ELECTRICIAN,
            "2025-05-01",
        )]);
        facts.enrollments[0].institution.kind = InstitutionKind::HigherVocational;
        facts.enrollments[0].status = EnrollmentStatus::Graduated;
        facts.employments.push(job(ELECTRICIAN, "2025-07-01", None));
        facts.learner.hukou = hukou;
        facts
    }

    #[test]
    fn met_for_a_non_shanghai_graduate_with_technician_in_the_matching_post() {
        let m = &evaluate(
            &graduate(Some(Hukou::Other)),
            &Parameters::seed(),
            d("2025-08-01"),
        )[0];
        assert_eq!(
            (m.status, m.eligible_from),
            (Status::Met, Some(d("2025-07-01")))
        );
        assert_eq!(
            evaluate(
                &graduate(Some(Hukou::Other)),
                &Parameters::seed(),
                d("2026-01-01")
            )[0]
            .status,
            Status::Lapsed
        );
    }

    #[test]
    fn hukou_decides_applicability() {
        assert_eq!(
            evaluate(&graduate(None), &Parameters::seed(), d("2025-08-01"))[0].status,
            Status::NeedsInfo
        );
        assert_eq!(
            evaluate(
                &graduate(Some(Hukou::Shanghai)),
                &Parameters::seed(),
                d("2025-08-01")
            )[0]
            .status,
            Status::NotApplicable
        );
    }

    #[test]
    fn an_occupation_outside_the_technician_catalog_does_not_count() {
        let mut facts = graduate(Some(Hukou::Other));
        facts.certificates[0].occupation = MECHANIC.into();
        facts.enrollments[0].program_occupation = MECHANIC.into();
        facts.employments[0].occupation = MECHANIC.into();
        let m = &evaluate(&facts, &Parameters::seed(), d("2025-08-01"))[0];
        assert_eq!(m.status, Status::NotMet);
        assert!(m.missing[0]
            .en
            .contains("certificate in an occupation of the technician catalog"));
    }

    #[test]
    fn a_senior_worker_certificate_is_not_enough() {
        let mut facts = graduate(Some(Hukou::Other));
        facts.certificates[0].level = SkillLevel::SeniorWorker;
        let m = &evaluate(&facts, &Parameters::seed(), d("2025-08-01"))[0];
        assert_eq!(m.status, Status::NotMet);
    }

    #[test]
    fn only_full_time_students_of_designated_higher_vocational_colleges() {
        let mut technician_college = graduate(Some(Hukou::Other));
        technician_college.enrollments[0].institution.kind = InstitutionKind::TechnicianCollege;
        let mut part_time = graduate(Some(Hukou::Other));
        part_time.enrollments[0].full_time = false;
        let mut not_designated = graduate(Some(Hukou::Other));
        not_designated.enrollments[0]
            .institution
            .designations
            .clear();
        for facts in [technician_college, part_time, not_designated] {
            assert!(evaluate(&facts, &Parameters::seed(), d("2025-08-01")).is_empty());
        }
        let mut undergraduate = graduate(Some(Hukou::Other));
        undergraduate.enrollments[0].institution.kind = InstitutionKind::UndergraduateVocational;
        assert_eq!(
            evaluate(&undergraduate, &Parameters::seed(), d("2025-08-01"))[0].status,
            Status::Met
        );
    }
}
