//! The learner's next steps, ordered from their milestones.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::milestone::{Milestone, Status, Text};

crate::string_enum! {
    /// What a next step asks of the learner.
    StepKind {
        /// Eligible now: apply (before the window closes, if it does).
        ApplyNow => "apply_now",
        /// A fact is missing: record it.
        ProvideInfo => "provide_info",
        /// Only time is missing: eligible on the date.
        WaitUntil => "wait_until",
        /// Work towards the missing conditions.
        WorkTowards => "work_towards",
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NextStep {
    pub kind: StepKind,
    pub rule_id: String,
    pub milestone_key: String,
    pub title: Text,
    /// The date that matters: when eligibility opens, or when an open window closes.
    pub date: Option<NaiveDate>,
    pub text: Text,
}

/// The learner's next steps, the single most useful first: an open window closing soonest, then
/// facts to record, then what opens soonest, then the goals still to work towards.
pub fn next_steps(milestones: &[Milestone]) -> Vec<NextStep> {
    let mut steps: Vec<(u8, Option<NaiveDate>, NextStep)> = Vec::new();
    for m in milestones {
        let target = m.target_label.clone().unwrap_or_else(|| m.title.clone());
        let (rank, kind, date, text) = match m.status {
            Status::Met => (
                0,
                StepKind::ApplyNow,
                m.open_until,
                match m.open_until {
                    Some(until) => Text::new(
                        crate::compose!("现在即可申请：", target.zh, "（", until, "前）"),
                        crate::compose!("Apply now: ", target.en, " (before ", until, ")"),
                    ),
                    None => Text::new(
                        crate::compose!("现在即可申请：", target.zh),
                        crate::compose!("Apply now: ", target.en),
                    ),
                },
            ),
            Status::NeedsInfo => (
                1,
                StepKind::ProvideInfo,
                None,
                Text::new(
                    crate::compose!(
                        "补充信息：",
                        m.missing
                            .iter()
                            .map(|t| t.zh.as_ref())
                            .collect::<Vec<_>>()
                            .join("；")
                    ),
                    crate::compose!(
                        "Record: ",
                        m.missing
                            .iter()
                            .map(|t| t.en.as_ref())
                            .collect::<Vec<_>>()
                            .join("; ")
                    ),
                ),
            ),
            Status::Upcoming => (
                2,
                StepKind::WaitUntil,
                m.eligible_from,
                Text::new(
                    crate::compose!(m.eligible_from, "起可申请：", target.zh),
                    crate::compose!("From ", m.eligible_from, ": ", target.en),
                ),
            ),
            Status::NotMet => (
                3,
                StepKind::WorkTowards,
                None,
                Text::new(
                    crate::compose!(
                        target.zh,
                        "：",
                        m.missing
                            .iter()
                            .map(|t| t.zh.as_ref())
                            .collect::<Vec<_>>()
                            .join("；")
                    ),
                    crate::compose!(
                        target.en,
                        ": ",
                        m.missing
                            .iter()
                            .map(|t| t.en.as_ref())
                            .collect::<Vec<_>>()
                            .join("; ")
                    ),
                ),
            ),
            _ => continue,
        };
        let sort_date = date.or(m.eligible_from);
        steps.push((
            rank,
            sort_date,
            NextStep {
                kind,
                rule_id: m.rule_id.to_string(),
                milestone_key: m.key.clone(),
                title: m.title.clone(),
                date,
                text,
            },
        ));
    }
    // Within a rank, dated steps first, earliest first; undated after (stable otherwise).
    steps.sort_by(|a, b| {
        a.0.cmp(&b.0).then_with(|| match (a.1, b.1) {
            (Some(x), Some(y)) => x.cmp(&y),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        })
    });
    steps.into_iter().map(|(_, _, s)| s).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Citation;

    fn m(status: Status, from: Option<&str>) -> Milestone {
        let mut m = Milestone::new("r", "k", Text::new("t", "t"), Citation::new("s", "c"))
            .with_status(status);
        m.eligible_from = from.map(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap());
        m
    }

    #[test]
    fn the_most_useful_step_comes_first() {
        let mut closing = m(Status::Met, Some("2025-06-30"));
        closing.open_until = NaiveDate::from_ymd_opt(2025, 12, 31);
        let steps = next_steps(&[
            m(Status::NotMet, None),
            m(Status::Upcoming, Some("2027-01-01")),
            m(Status::Upcoming, Some("2026-03-01")),
            closing,
            m(Status::NeedsInfo, None),
        ]);
        let kinds: Vec<StepKind> = steps.iter().map(|s| s.kind).collect();
        assert_eq!(
            kinds,
            [
                StepKind::ApplyNow,
                StepKind::ProvideInfo,
                StepKind::WaitUntil,
                StepKind::WaitUntil,
                StepKind::WorkTowards
            ]
        );
        assert_eq!(steps[2].date, NaiveDate::from_ymd_opt(2026, 3, 1));
    }
}
