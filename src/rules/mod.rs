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
