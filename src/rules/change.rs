//! Which change between a stored milestone and a newly computed one is an event.

use super::milestone::{Milestone, Status};

crate::string_enum! {
    /// A change of a stored milestone that is recorded as an event.
    MilestoneChange {
        NewlyMet => "newly_met",
        NewlyUpcoming => "newly_upcoming",
        Achieved => "achieved",
        Lapsed => "lapsed",
        /// An open milestone's date moved.
        DateMoved => "date_moved",
        /// What the learner held is no longer met.
        Lost => "lost",
        /// A move between statuses that give the learner nothing.
        Changed => "changed",
    }
}

/// The kind of change between a stored milestone and a new one: every change of status is an
/// event (and every move of an open milestone's date). Losing what the learner held — met,
/// upcoming or achieved — is `lost`, which they are told; a move of a stored milestone between
/// two statuses that give the learner nothing (`not_met`, `needs_info`, `not_applicable`,
/// `lapsed`, absent) is `changed`, recorded without a notice. A milestone computed for the first
/// time is an event only when it gives something (met, upcoming, achieved).
pub fn change(before: Option<&Milestone>, after: Option<&Milestone>) -> Option<MilestoneChange> {
    let b = before.map(|m| m.status);
    let a = after.map(|m| m.status);
    let was_open = matches!(b, Some(Status::Met | Status::Upcoming | Status::Achieved));
    match a {
        Some(Status::Met) if b != Some(Status::Met) => Some(MilestoneChange::NewlyMet),
        Some(Status::Upcoming) if b != Some(Status::Upcoming) => {
            Some(MilestoneChange::NewlyUpcoming)
        }
        Some(Status::Achieved) if b != Some(Status::Achieved) => Some(MilestoneChange::Achieved),
        Some(Status::Lapsed) if b != Some(Status::Lapsed) => Some(MilestoneChange::Lapsed),
        Some(Status::Met | Status::Upcoming)
            if before.map(|m| m.eligible_from) != after.map(|m| m.eligible_from) =>
        {
            Some(MilestoneChange::DateMoved)
        }
        Some(Status::NotMet | Status::NeedsInfo | Status::NotApplicable) | None if was_open => {
            Some(MilestoneChange::Lost)
        }
        _ if b.is_some() && a != b => Some(MilestoneChange::Changed),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::rules::{Citation, Text};

    /// Every stored change of status, and every move of an open milestone's date, is an event;
    /// losing what was held is one the learner is told of.
    #[test]
    fn every_change_of_status_has_its_event() {
        let statuses: Vec<Option<Status>> = std::iter::once(None)
            .chain(Status::ALL.iter().copied().map(Some))
            .collect();
        for before in &statuses {
            for after in &statuses {
                for (from_before, from_after) in [
                    (Some("2025-01-01"), Some("2025-01-01")),
                    (Some("2025-01-01"), Some("2026-01-01")),
                ] {
                    let b = before.map(|s| m(s, from_before));
                    let a = after.map(|s| m(s, from_after));
                    let event = change(b.as_ref(), a.as_ref());
                    let open_after = matches!(after, Some(Status::Met | Status::Upcoming));
                    let gives = matches!(
                        after,
                        Some(Status::Met | Status::Upcoming | Status::Achieved | Status::Lapsed)
                    );
                    let should = (before.is_some() && before != after)
                        || (before.is_none() && gives)
                        || (open_after && from_before != from_after);
                    assert_eq!(
                        event.is_some(),
                        should,
                        "{before:?} -> {after:?} ({from_before:?} -> {from_after:?}): {event:?}"
                    );
                    let held = matches!(
                        before,
                        Some(Status::Met | Status::Upcoming | Status::Achieved)
                    );
                    let gone = matches!(
                        after,
                        None | Some(Status::NotMet | Status::NeedsInfo | Status::NotApplicable)
                    );
                    if held && gone {
                        assert_eq!(
                            event,
                            Some(MilestoneChange::Lost),
                            "{before:?} -> {after:?}"
                        );
                    }
                }
            }
        }
    }

    fn m(status: Status, from: Option<&str>) -> Milestone {
        let mut m = Milestone::new("r", "k", Text::new("t", "t"), Citation::new("s", "c"))
            .with_status(status);
        m.eligible_from = from.map(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap());
        m
    }

    #[test]
    fn changes_worth_an_event() {
        assert_eq!(
            change(None, Some(&m(Status::Met, Some("2025-01-01")))),
            Some(MilestoneChange::NewlyMet)
        );
        assert_eq!(
            change(
                Some(&m(Status::Upcoming, Some("2025-01-01"))),
                Some(&m(Status::Met, Some("2025-01-01")))
            ),
            Some(MilestoneChange::NewlyMet)
        );
        assert_eq!(
            change(
                Some(&m(Status::NotMet, None)),
                Some(&m(Status::Upcoming, Some("2026-01-01")))
            ),
            Some(MilestoneChange::NewlyUpcoming)
        );
        assert_eq!(
            change(
                Some(&m(Status::Upcoming, Some("2026-01-01"))),
                Some(&m(Status::Upcoming, Some("2026-06-01")))
            ),
            Some(MilestoneChange::DateMoved)
        );
        assert_eq!(
            change(
                Some(&m(Status::Met, Some("2025-01-01"))),
                Some(&m(Status::NotMet, None))
            ),
            Some(MilestoneChange::Lost)
        );
        assert_eq!(
            change(Some(&m(Status::Met, Some("2025-01-01"))), None),
            Some(MilestoneChange::Lost)
        );
        assert_eq!(
            change(
                Some(&m(Status::Met, Some("2025-01-01"))),
                Some(&m(Status::Lapsed, None))
            ),
            Some(MilestoneChange::Lapsed)
        );
        assert_eq!(
            change(
                Some(&m(Status::Met, Some("2025-01-01"))),
                Some(&m(Status::Met, Some("2025-01-01")))
            ),
            None
        );
        assert_eq!(
            change(
                Some(&m(Status::NotMet, None)),
                Some(&m(Status::NotMet, None))
            ),
            None
        );
    }
}
