//! `sh.residence_points_skill` — 居住证积分 points for a skill level.
//!
//! 上海市居住证积分管理办法（沪府发〔2017〕98号）及实施细则, indicator 专业技术职称和技能等级 (values from
//! secondary sources, Unconfirmed, kept as parameters). Policy 五(四): a dedicated trainer at a
//! new-type technician college counts as frontline work in the occupation it trains.

use chrono::NaiveDate;

use super::as_of::AsOf;
use super::facts::{shown, Facts};
use super::milestone::{Check, Citation, Milestone, Outcome, RuleInfo, Status, Text};
use super::params::Parameters;
use crate::domain::{Hukou, SkillLevel};

pub const ID: &str = "sh.residence_points_skill";

pub fn info() -> RuleInfo {
    RuleInfo {
        id: ID,
        title: Text::new(
            "居住证积分：技能等级积分",
            "Residence-permit points for a skill level",
        ),
        citation: Citation::new(
            "上海市居住证积分管理办法（沪府发〔2017〕98号）及实施细则",
            "专业技术职称和技能等级",
        ),
    }
}

pub fn evaluate(facts: &Facts, params: &Parameters, as_of: &AsOf, out: &mut Vec<Milestone>) {
    let i = info();
    let mut m = Milestone::new(ID, "", i.title, i.citation);
    m.target = Some("points".into());
    m.target_label = Some(Text::new(
        crate::compose!(
            "与学历积分二选一，标准分值",
            params.int(crate::param!("sh.residence_points.standard_score")),
            "分"
        ),
        crate::compose!(
            "An alternative to education points (二选一); the standard score is ",
            params.int(crate::param!("sh.residence_points.standard_score"))
        ),
    ));
    if facts.learner.hukou == Some(Hukou::Shanghai) {
        m.check(Check::pass_if(
            false,
            Text::new(
                "持有上海市居住证（非本市户籍）",
                "Residence permit holder (no Shanghai hukou)",
            ),
            "shanghai",
            "other",
        ));
        out.push(m.with_status(Status::NotApplicable));
        return;
    }
    let cap = params.int(crate::param!("sh.residence_points.cap"));
    let require_catalog = params.flag(crate::param!(
        "sh.residence_points.require_high_skill_catalog"
    ));
    let mut qualifying: Vec<(u32, NaiveDate)> = Vec::new();
    let mut needs_insurance_fact = false;
    let mut missing = Vec::new();
    for cert in facts.level_certificates() {
        let label = cert.label();
        let worked = facts
            .employments
            .iter()
            .any(|e| e.in_shanghai && e.covers(cert.issued_on));
        m.check(Check::pass_if(
            worked,
            Text::new("取得证书时在本市工作", "Obtained while working in Shanghai"),
            label.clone(),
            "an in-Shanghai job covering the issue date",
        ));
        let post = facts.current_post_matching(&cert.occupation, as_of, params);
        m.check(Check::pass_if(
            post.is_some(),
            Text::new(
                "证书职业与现岗位相符",
                "The certificate's occupation matches the current post",
            ),
            post.map_or_else(
                || "no matching current job".into(),
                |p| {
                    if p.dedicated_trainer {
                        crate::compose!(
                            p.describe(),
                            " (dedicated trainer, counts as frontline: policy 五(四))"
                        )
                    } else {
                        p.describe()
                    }
                },
            ),
            cert.occupation.clone(),
        ));
        let mut ok = worked && post.is_some();
        if cert.level >= SkillLevel::Technician {
            let base = facts.learner.insurance_base_at_least_average_6_of_12;
            m.check(Check::new(
                Text::new(
                    "近12个月中有6个月社保缴费基数不低于本市上年度平均工资",
                    "Insurance base at least the city average in 6 of the last 12 months",
                ),
                shown(base),
                "yes",
                match base {
                    None => Outcome::Unknown,
                    Some(true) => Outcome::Pass,
                    Some(false) => Outcome::Fail,
                },
            ));
            if base.is_none() && ok {
                needs_insurance_fact = true;
            }
            ok &= base == Some(true);
        } else if require_catalog {
            let listed = facts.occupation(&cert.occupation).high_skill_catalog;
            m.check(Check::pass_if(
                listed,
                Text::new(
                    "职业在高技能人才目录内",
                    "Occupation in the high-skill catalog",
                ),
                cert.occupation.clone(),
                "high_skill_catalog",
            ));
            ok &= listed;
        }
        if ok {
            let points = params.points_for(cert.level).min(cap);
            let since = cert.issued_on.max(post.map_or(cert.issued_on, |p| p.start));
            qualifying.push((points, since));
        } else if !worked {
            missing.push(Text::new(
                crate::compose!(cert.level.name_zh(), "：取得时不在本市工作"),
                crate::compose!(
                    cert.level.name_en(),
                    ": not obtained while working in Shanghai"
                ),
            ));
        } else if post.is_none() {
            missing.push(Text::new(
                crate::compose!(cert.level.name_zh(), "：需在证书对应岗位工作"),
                crate::compose!(
                    cert.level.name_en(),
                    ": needs a current job in its occupation"
                ),
            ));
        }
    }
    // The most points; of equal points, the earliest day they count from.
    let best = qualifying
        .into_iter()
        .max_by_key(|&(points, since)| (points, std::cmp::Reverse(since)));
    let m = match best {
        Some((points, since)) => {
            m.points = Some(points);
            m.dated(since, as_of)
        }
        None if needs_insurance_fact => m.with_status(Status::NeedsInfo).missing(Text::new(
            "请补充社保缴费基数信息（技师及以上需满足）",
            "Record whether your insurance base was at least the city average in 6 of the last 12 months (needed for Technician and above)",
        )),
        None => {
            if missing.is_empty() {
                missing.push(Text::new("一份经核验的技能等级证书", "a verified skill-level certificate"));
            }
            let mut m = m.with_status(Status::NotMet);
            m.missing = missing;
            m
        }
    };
    out.push(m);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    /// The rule's milestones as a list (the engine appends them to a shared one).
    fn evaluate(facts: &Facts, params: &Parameters, as_of: NaiveDate) -> Vec<Milestone> {
        let mut out = Vec::new();
        super::evaluate(facts, params, &crate::rules::AsOf::new(as_of), &mut out);
        out
    }

    fn worker(level: SkillLevel, base: Option<bool>) -> Facts {
        let mut facts = Facts {
            certificates: vec![verified(1, level, ELECTRICIAN, "2024-05-01")],
            ..Facts::default()
        };
        catalog(&mut facts);
        facts.employments.push(job(ELECTRICIAN, "2023-01-01", None));
        facts.learner.hukou = Some(Hukou::Other);
        facts.learner.insurance_base_at_least_average_6_of_12 = base;
        facts
    }

    #[test]
    fn points_by_level() {
        let p = Parameters::seed();
        let m = &evaluate(&worker(SkillLevel::SeniorWorker, None), &p, d("2025-01-01"))[0];
        assert_eq!(
            (m.status, m.points, m.eligible_from),
            (Status::Met, Some(60), Some(d("2024-05-01")))
        );
        let m = &evaluate(
            &worker(SkillLevel::Technician, Some(true)),
            &p,
            d("2025-01-01"),
        )[0];
        assert_eq!(m.points, Some(100));
    }

    #[test]
    fn the_most_points_and_of_equal_points_the_earliest_count() {
        let mut technician = worker(SkillLevel::Technician, Some(true));
        technician.certificates.push(verified(
            2,
            SkillLevel::SeniorWorker,
            ELECTRICIAN,
            "2023-05-01",
        ));
        let mut senior_workers = worker(SkillLevel::SeniorWorker, None);
        senior_workers.certificates.push(verified(
            2,
            SkillLevel::SeniorWorker,
            ELECTRICIAN,
            "2023-05-01",
        ));
        for (mut facts, expected) in [
            (technician, (Some(100), Some(d("2024-05-01")))),
            (senior_workers, (Some(60), Some(d("2023-05-01")))),
        ] {
            for _ in 0..2 {
                facts.certificates.reverse();
                let m = &evaluate(&facts, &Parameters::seed(), d("2025-01-01"))[0];
                assert_eq!((m.points, m.eligible_from), expected);
            }
        }
    }

    #[test]
    fn what_is_missing_names_the_certificate_and_the_reason() {
        let mut outside = worker(SkillLevel::SeniorWorker, None);
        outside.employments[0].in_shanghai = false;
        let mut no_post = worker(SkillLevel::SeniorWorker, None);
        no_post.employments[0].end = Some(d("2024-12-31"));
        for (facts, expected) in [
            (
                outside,
                "Senior Worker (Level 3): not obtained while working in Shanghai",
            ),
            (
                no_post,
                "Senior Worker (Level 3): needs a current job in its occupation",
            ),
        ] {
            let m = &evaluate(&facts, &Parameters::seed(), d("2025-01-01"))[0];
            assert_eq!(m.status, Status::NotMet);
            assert_eq!(m.missing[0].en, expected);
        }
    }

    #[test]
    fn technician_needs_the_insurance_fact() {
        let m = &evaluate(
            &worker(SkillLevel::Technician, None),
            &Parameters::seed(),
            d("2025-01-01"),
        )[0];
        assert_eq!(m.status, Status::NeedsInfo);
        let m = &evaluate(
            &worker(SkillLevel::Technician, Some(false)),
            &Parameters::seed(),
            d("2025-01-01"),
        )[0];
        assert_eq!(m.status, Status::NotMet);
    }

    #[test]
    fn a_dedicated_trainer_counts_as_frontline() {
        let mut facts = worker(SkillLevel::SeniorWorker, None);
        facts.employments[0].frontline = false;
        facts.employments[0].dedicated_trainer = true;
        let m = &evaluate(&facts, &Parameters::seed(), d("2025-01-01"))[0];
        assert_eq!(m.status, Status::Met);
        assert!(m.trace.iter().any(|c| c.observed.contains("五(四)")));
    }

    #[test]
    fn obtained_outside_shanghai_does_not_count() {
        let mut facts = worker(SkillLevel::SeniorWorker, None);
        facts.employments[0].in_shanghai = false;
        assert_eq!(
            evaluate(&facts, &Parameters::seed(), d("2025-01-01"))[0].status,
            Status::NotMet
        );
        let p = Parameters::seed().with(
            "sh.residence_points.require_high_skill_catalog",
            true.into(),
        );
        let mut facts = worker(SkillLevel::SeniorWorker, None);
        facts.certificates[0].occupation = "4-01-02-01".into();
        facts.employments[0].occupation = "4-01-02-01".into();
        assert_eq!(
            evaluate(&facts, &p, d("2025-01-01"))[0].status,
            Status::NotMet
        );
    }
}
