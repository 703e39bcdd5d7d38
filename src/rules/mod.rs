//! The eligibility engine: a pure function of (facts, parameters in force, evaluation date) →
//! milestones, each with the policy clause it rests on and a trace of every condition checked.
//! No database, no clock: callers load the facts and pass the date. One file per rule.

pub mod as_of;
pub mod change;
pub mod compose;
pub mod dates;
pub mod facts;
pub mod fast_map;
pub mod milestone;
pub mod next_steps;
pub mod params;
#[cfg(test)]
mod properties;
#[cfg(test)]
mod testing;

mod graduate_settlement_preference;
mod hukou_conversion;
mod national_next_level;
mod professional_title;
mod public_institution_recruitment;
mod residence_points_skill;
mod talent_introduction;
mod technician_after_senior_worker;
mod training_target;

use chrono::NaiveDate;

pub use as_of::AsOf;
pub use facts::Facts;
pub use milestone::{Check, Citation, Milestone, Outcome, RuleInfo, Status, Text};
pub use params::Parameters;

/// A rule appends its milestones to the list it is given.
type Evaluate = fn(&Facts, &Parameters, &AsOf, &mut Vec<Milestone>);

struct Rule {
    info: fn() -> RuleInfo,
    evaluate: Evaluate,
}

const RULES: &[Rule] = &[
    Rule {
        info: technician_after_senior_worker::info,
        evaluate: technician_after_senior_worker::evaluate,
    },
    Rule {
        info: national_next_level::info,
        evaluate: national_next_level::evaluate,
    },
    Rule {
        info: training_target::info,
        evaluate: training_target::evaluate,
    },
    Rule {
        info: public_institution_recruitment::info,
        evaluate: public_institution_recruitment::evaluate,
    },
    Rule {
        info: graduate_settlement_preference::info,
        evaluate: graduate_settlement_preference::evaluate,
    },
    Rule {
        info: professional_title::info,
        evaluate: professional_title::evaluate,
    },
    Rule {
        info: residence_points_skill::info,
        evaluate: residence_points_skill::evaluate,
    },
    Rule {
        info: hukou_conversion::info,
        evaluate: hukou_conversion::evaluate,
    },
    Rule {
        info: talent_introduction::info,
        evaluate: talent_introduction::evaluate,
    },
];

/// Every rule, in the order of the specification.
pub fn catalog() -> Vec<RuleInfo> {
    RULES.iter().map(|r| (r.info)()).collect()
}

/// All milestones of one learner on `as_of`, under `params` (the values in force on `as_of`).
pub fn evaluate(facts: &Facts, params: &Parameters, as_of: NaiveDate) -> Vec<Milestone> {
    evaluate_at(facts, params, &AsOf::new(as_of))
}

/// `evaluate`, with `as_of` left holding the evaluation's horizon: the first later day on which
/// the answer may differ (under the same facts and parameters).
pub fn evaluate_at(facts: &Facts, params: &Parameters, as_of: &AsOf) -> Vec<Milestone> {
    // Only what is known on the evaluation date counts: certificates and awards dated later are
    // set aside (employment after the date is handled by the work count itself).
    let mut later = false;
    for date in facts
        .certificates
        .iter()
        .map(|c| c.issued_on)
        .chain(facts.awards.iter().map(|a| a.awarded_on))
    {
        later |= !as_of.reached(date);
    }
    let known;
    let facts = if later {
        let mut trimmed = facts.clone();
        trimmed.certificates.retain(|c| c.issued_on <= as_of.day());
        trimmed.awards.retain(|a| a.awarded_on <= as_of.day());
        known = trimmed;
        &known
    } else {
        facts
    };
    let version: std::sync::Arc<str> = std::sync::Arc::from(params.version.as_str());
    let mut out = Vec::with_capacity(12);
    for rule in RULES {
        (rule.evaluate)(facts, params, as_of, &mut out);
    }
    for milestone in &mut out {
        milestone.parameters_version = version.clone();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::facts::AwardFact;
    use super::testing::{d, job, student_at_designated_college, verified, ELECTRICIAN, ROBOTICS};
    use super::*;
    use crate::domain::{AwardKind, SkillLevel};

    fn json(facts: &Facts, on: &str) -> String {
        serde_json::to_string(&evaluate(facts, &Parameters::seed(), d(on))).unwrap()
    }

    #[test]
    fn the_catalog_holds_every_rule_once_in_the_order_of_the_specification() {
        let ids: Vec<&str> = catalog().iter().map(|r| r.id).collect();
        assert_eq!(
            ids,
            [
                "sh489.technician_after_senior_worker",
                "national.next_level",
                "sh489.training_target",
                "sh489.public_institution_recruitment",
                "sh489.graduate_settlement_preference",
                "sh489.professional_title",
                "sh.residence_points_skill",
                "sh.hukou_conversion",
                "sh.talent_introduction",
            ]
        );
    }

    #[test]
    fn every_milestone_carries_the_version_of_its_parameters() {
        let facts = student_at_designated_college(vec![verified(
            1,
            SkillLevel::SeniorWorker,
            ELECTRICIAN,
            "2023-06-30",
        )]);
        let milestones = evaluate(&facts, &Parameters::seed(), d("2025-07-01"));
        assert!(milestones.len() > 3);
        assert!(milestones
            .iter()
            .all(|m| &*m.parameters_version == Parameters::seed().version.as_str()));
    }

    /// A 中级工 held, a 高级工 issued on 2024-07-01: the day before, the answer is that of a learner
    /// without the later certificate; from its day on, it counts.
    #[test]
    fn a_certificate_issued_after_the_evaluation_date_is_set_aside_until_its_day() {
        let earlier = verified(1, SkillLevel::IntermediateWorker, ELECTRICIAN, "2023-01-10");
        let later = verified(2, SkillLevel::SeniorWorker, ELECTRICIAN, "2024-07-01");
        let with = student_at_designated_college(vec![earlier.clone(), later]);
        let without = student_at_designated_college(vec![earlier]);
        assert_eq!(json(&with, "2024-06-30"), json(&without, "2024-06-30"));
        assert_ne!(json(&with, "2024-07-01"), json(&without, "2024-07-01"));
        // The same when it is the only certificate.
        let only_later = student_at_designated_college(vec![with.certificates[1].clone()]);
        let none = student_at_designated_college(vec![]);
        assert_eq!(json(&only_later, "2024-06-30"), json(&none, "2024-06-30"));
        let on_its_day = evaluate(&with, &Parameters::seed(), d("2024-07-01"));
        let technician = on_its_day
            .iter()
            .find(|m| m.rule_id == technician_after_senior_worker::ID)
            .unwrap();
        assert_eq!(technician.eligible_from, Some(d("2026-07-01")));
    }

    /// An award dated after the evaluation date is set aside as a certificate is.
    #[test]
    fn an_award_dated_after_the_evaluation_date_is_set_aside_until_its_day() {
        let mut without = Facts {
            certificates: vec![verified(1, SkillLevel::Technician, ROBOTICS, "2024-01-01")],
            ..Facts::default()
        };
        super::testing::catalog(&mut without);
        without.employments.push(job(ROBOTICS, "2020-01-01", None));
        let mut with = without.clone();
        with.awards.push(AwardFact {
            kind: AwardKind::NationalCompetitionMedal,
            awarded_on: d("2024-10-01"),
        });
        assert_eq!(json(&with, "2024-09-30"), json(&without, "2024-09-30"));
        assert_ne!(json(&with, "2024-10-01"), json(&without, "2024-10-01"));
    }
}
