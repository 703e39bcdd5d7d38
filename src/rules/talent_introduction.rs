//! `sh.talent_introduction` — 人才引进 direct hukou for high-skilled frontline workers.
//!
//! 上海市引进人才申办本市常住户口办法实施细则 (secondary sources; Unconfirmed details). Policy 五(四):
//! a dedicated trainer at a new-type technician college counts as frontline.

use chrono::NaiveDate;

use super::as_of::AsOf;
use super::facts::Facts;
use super::milestone::{Check, Citation, Milestone, RuleInfo, Status, Text};
use super::params::Parameters;
use crate::domain::{AwardKind, Hukou, SkillLevel};

pub const ID: &str = "sh.talent_introduction";

pub fn info() -> RuleInfo {
    RuleInfo {
        id: ID,
        title: Text::new(
            "高技能人才引进直接落户",
            "Talent introduction: direct hukou for high-skilled frontline workers",
        ),
        citation: Citation::new("上海市引进人才申办本市常住户口办法实施细则", "人才引进"),
    }
}

pub fn evaluate(facts: &Facts, params: &Parameters, as_of: &AsOf, out: &mut Vec<Milestone>) {
    let i = info();
    let mut m = Milestone::new(ID, "", i.title, i.citation);
    m.target = Some("shanghai_hukou".into());
    m.target_label = Some(Text::new(
        "本市常住户口（人才引进）",
        "Shanghai hukou (talent introduction)",
    ));
    if facts.learner.hukou == Some(Hukou::Shanghai) {
        out.push(m.with_status(Status::NotApplicable));
        return;
    }
    let qualifying_award = facts.awards.iter().find(|a| {
        matches!(
            a.kind,
            AwardKind::NationalCompetitionMedal
                | AwardKind::ProvincialCompetitionGold
                | AwardKind::NationalOrProvincialHonour
        )
    });
    let mut best: Option<NaiveDate> = None;
    for job in facts
        .employments
        .iter()
        .filter(|e| e.current_on(as_of) && (e.frontline || e.dedicated_trainer))
    {
        let priority = facts.occupation(&job.occupation).priority_industry;
        m.check(Check::pass_if(
            priority,
            Text::new(
                "一线岗位属本市重点产业紧缺急需职业",
                "Frontline job in a priority-industry occupation",
            ),
            if job.dedicated_trainer && !job.frontline {
                crate::compose!(
                    job.describe(),
                    " (dedicated trainer: counts as frontline, policy 五(四))"
                )
            } else {
                job.describe()
            },
            "priority_industry",
        ));
        if !priority {
            continue;
        }
        for cert in facts
            .level_certificates()
            .filter(|c| facts.related(&c.occupation, &job.occupation, params))
        {
            let since = match cert.level {
                SkillLevel::SeniorTechnician => Some(cert.issued_on),
                SkillLevel::Technician => {
                    qualifying_award.map(|a| a.awarded_on.max(cert.issued_on))
                }
                _ => None,
            };
            m.check(Check::pass_if(
                since.is_some(),
                Text::new(
                    "高级技师，或技师并获竞赛奖项/荣誉",
                    "Senior Technician, or Technician with a competition medal or honour",
                ),
                cert.label(),
                "senior_technician | technician + award",
            ));
            if let Some(since) = since.map(|s| s.max(job.start)) {
                best = Some(best.map_or(since, |b| b.min(since)));
            }
        }
    }
    out.push(match best {
        Some(since) => m.dated(since, as_of),
        None => m.with_status(Status::NotMet).missing(Text::new(
            "在重点产业紧缺职业一线岗位工作，并持有高级技师证书，或技师证书加国家级竞赛奖牌、省级竞赛金牌或国家/省级荣誉",
            "A frontline job in a priority-industry occupation with a Senior Technician certificate, or a Technician certificate plus a national competition medal, provincial gold or national/provincial honour",
        )),
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::facts::AwardFact;
    use crate::rules::testing::*;

    /// The rule's milestones as a list (the engine appends them to a shared one).
    fn evaluate(facts: &Facts, params: &Parameters, as_of: NaiveDate) -> Vec<Milestone> {
        let mut out = Vec::new();
        super::evaluate(facts, params, &crate::rules::AsOf::new(as_of), &mut out);
        out
    }

    fn frontline(level: SkillLevel) -> Facts {
        let mut facts = Facts {
            certificates: vec![verified(1, level, ROBOTICS, "2024-01-01")],
            ..Facts::default()
        };
        catalog(&mut facts);
        facts.employments.push(job(ROBOTICS, "2020-01-01", None));
        facts
    }

    #[test]
    fn senior_technician_in_a_priority_occupation() {
        let m = &evaluate(
            &frontline(SkillLevel::SeniorTechnician),
            &Parameters::seed(),
            d("2025-01-01"),
        )[0];
        assert_eq!(
            (m.status, m.eligible_from),
            (Status::Met, Some(d("2024-01-01")))
        );
    }

    #[test]
    fn technician_needs_an_award() {
        let mut facts = frontline(SkillLevel::Technician);
        assert_eq!(
            evaluate(&facts, &Parameters::seed(), d("2025-01-01"))[0].status,
            Status::NotMet
        );
        facts.awards.push(AwardFact {
            kind: AwardKind::NationalCompetitionMedal,
            awarded_on: d("2024-10-01"),
        });
        let m = &evaluate(&facts, &Parameters::seed(), d("2025-01-01"))[0];
        assert_eq!(
            (m.status, m.eligible_from),
            (Status::Met, Some(d("2024-10-01")))
        );
    }

    #[test]
    fn only_a_current_frontline_or_dedicated_trainer_job_counts() {
        let mut ended = frontline(SkillLevel::SeniorTechnician);
        ended.employments[0].end = Some(d("2024-12-31"));
        let mut office = frontline(SkillLevel::SeniorTechnician);
        office.employments[0].frontline = false;
        for facts in [ended, office] {
            assert_eq!(
                evaluate(&facts, &Parameters::seed(), d("2025-01-01"))[0].status,
                Status::NotMet
            );
        }
    }

    #[test]
    fn the_trace_says_when_a_dedicated_trainer_counts_as_frontline() {
        let mentions_trainer = |facts: &Facts| {
            let m = &evaluate(facts, &Parameters::seed(), d("2025-01-01"))[0];
            assert_eq!(m.status, Status::Met);
            m.trace
                .iter()
                .any(|c| c.observed.contains("dedicated trainer"))
        };
        let mut trainer = frontline(SkillLevel::SeniorTechnician);
        trainer.employments[0].frontline = false;
        trainer.employments[0].dedicated_trainer = true;
        assert!(mentions_trainer(&trainer));
        assert!(!mentions_trainer(&frontline(SkillLevel::SeniorTechnician)));
        // A frontline worker who also trains is frontline in their own right.
        let mut both = frontline(SkillLevel::SeniorTechnician);
        both.employments[0].dedicated_trainer = true;
        assert!(!mentions_trainer(&both));
    }

    #[test]
    fn an_occupation_outside_the_priority_list_does_not_count() {
        let mut facts = frontline(SkillLevel::SeniorTechnician);
        facts.certificates[0].occupation = ELECTRICIAN.into();
        facts.employments[0].occupation = ELECTRICIAN.into();
        assert_eq!(
            evaluate(&facts, &Parameters::seed(), d("2025-01-01"))[0].status,
            Status::NotMet
        );
    }
}
