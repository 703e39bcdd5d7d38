//! The evaluation date, and how long an evaluation made on it stays true.
//!
//! Every rule compares dates derived from the learner's records with the evaluation date. Each
//! comparison made through [`AsOf`] notes the first later day on which it would come out the
//! other way; the earliest of those days is the evaluation's *horizon*. Until then every
//! comparison the rules made comes out the same, so the rules take the same path and produce the
//! same milestones: a stored answer is exact for every day before the horizon. Comparisons that
//! were not made (the other side of a short-circuited `&&`) cannot matter before one that was
//! made flips. Where a value changes every day (a count of days worked up to the date) the
//! horizon is the next day. Noting a day too early is always safe; too late never is, so where
//! the exact day is hard to know the rules note an earlier one.

use std::cell::Cell;

use chrono::NaiveDate;

use super::dates;

pub struct AsOf {
    day: NaiveDate,
    /// The earliest later day noted; `NaiveDate::MAX` while none is.
    next_change: Cell<NaiveDate>,
}

impl AsOf {
    pub fn new(day: NaiveDate) -> Self {
        Self {
            day,
            next_change: Cell::new(NaiveDate::MAX),
        }
    }

    /// The evaluation date itself, for what is shown or counted up to it. A rule that derives a
    /// value from it must note when that value changes (see [`AsOf::changes_daily`]).
    pub fn day(&self) -> NaiveDate {
        self.day
    }

    /// Notes that the evaluation may come out differently from `date` on (a day not after the
    /// evaluation date counts as the next day).
    pub fn changes_on(&self, date: NaiveDate) {
        let date = date.max(dates::add_days(self.day, 1));
        if date < self.next_change.get() {
            self.next_change.set(date);
        }
    }

    /// Notes that something shown changes every day (a count of days up to the date).
    pub fn changes_daily(&self) {
        self.changes_on(self.day);
    }

    /// `date` has come: it is on or before the evaluation date. Turns true on `date`.
    pub fn reached(&self, date: NaiveDate) -> bool {
        if date > self.day {
            self.changes_on(date);
            false
        } else {
            true
        }
    }

    /// The evaluation date is on or before `date` (an end not yet passed). Turns false the day
    /// after `date`.
    pub fn not_after(&self, date: NaiveDate) -> bool {
        if date >= self.day {
            self.changes_on(dates::add_days(date, 1));
            true
        } else {
            false
        }
    }

    /// `date` falls within `months` months of the evaluation date (on or before the day that
    /// many months later). Turns true at the earliest on `date` less `months` months: no earlier
    /// day reaches it, end-of-month rule included (see the test).
    pub fn within_months(&self, date: NaiveDate, months: u32) -> bool {
        if date <= dates::add_months(self.day, months) {
            true
        } else {
            self.changes_on(dates::sub_months(date, months));
            false
        }
    }

    /// The first later day on which the evaluation may differ; `None` if none was noted.
    pub fn horizon(&self) -> Option<NaiveDate> {
        let next = self.next_change.get();
        (next != NaiveDate::MAX).then_some(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn the_horizon_is_the_earliest_flip_of_any_comparison_made() {
        let a = AsOf::new(d("2025-03-01"));
        assert_eq!(a.horizon(), None);
        assert!(a.reached(d("2025-03-01")));
        assert!(a.reached(d("2024-01-01")));
        assert_eq!(a.horizon(), None, "a past date never flips back");
        assert!(!a.reached(d("2025-06-30")));
        assert_eq!(a.horizon(), Some(d("2025-06-30")));
        assert!(a.not_after(d("2025-04-10")));
        assert_eq!(a.horizon(), Some(d("2025-04-11")));
        assert!(!a.not_after(d("2025-02-28")));
        assert_eq!(
            a.horizon(),
            Some(d("2025-04-11")),
            "a passed end stays passed"
        );
        a.changes_daily();
        assert_eq!(a.horizon(), Some(d("2025-03-02")));
        a.changes_on(d("2020-01-01"));
        assert_eq!(
            a.horizon(),
            Some(d("2025-03-02")),
            "never before the next day"
        );
    }

    #[test]
    fn within_months_is_true_up_to_the_day_that_many_months_later() {
        let a = AsOf::new(d("2025-03-01"));
        assert!(a.within_months(d("2025-03-01"), 12), "the day itself");
        assert!(a.within_months(d("2026-03-01"), 12), "the last day within");
        assert!(!a.within_months(d("2026-03-02"), 12), "the day after");
        // The end-of-month rule: a month after 31 January is 28 February.
        let a = AsOf::new(d("2025-01-31"));
        assert!(a.within_months(d("2025-02-28"), 1));
        assert!(!a.within_months(d("2025-03-01"), 1));
    }

    #[test]
    fn within_months_never_notes_a_day_after_it_turns_true() {
        // Every end date over two years, every evaluation date before it: the noted day is on
        // or before the first day the comparison comes out true.
        let start = d("2023-01-01");
        for months in [1, 6, 12] {
            for e in 0..730 {
                let end = dates::add_days(start, e);
                for back in (0..400).step_by(7) {
                    let Some(day) = end.checked_sub_days(chrono::Days::new(back)) else {
                        continue;
                    };
                    let a = AsOf::new(day);
                    if a.within_months(end, months) {
                        continue;
                    }
                    let noted = a.horizon().unwrap();
                    let mut first = dates::add_days(day, 1);
                    while end > dates::add_months(first, months) {
                        first = dates::add_days(first, 1);
                    }
                    assert!(
                        noted <= first,
                        "{end} {months} from {day}: {noted} > {first}"
                    );
                }
            }
        }
    }
}
