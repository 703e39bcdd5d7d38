//! The date arithmetic of the rules (RULES.md, "Date arithmetic").

use chrono::{Datelike, Days, Months, NaiveDate};

use super::as_of::AsOf;

/// "N years after D": the same month and day N years later; where that day does not exist
/// (29 February), the last day of that month. Basis: 民法典 第二百零一条/第二百零三条.
/// 2024-02-29 + 2 years = 2026-02-28.
pub fn add_years(date: NaiveDate, years: u32) -> NaiveDate {
    add_months(date, years.saturating_mul(12))
}

/// "N months after D", with the same end-of-month rule.
pub fn add_months(date: NaiveDate, months: u32) -> NaiveDate {
    // chrono clamps to the last day of the month, which is exactly the rule.
    date.checked_add_months(Months::new(months))
        .unwrap_or(NaiveDate::MAX)
}

/// "N months before D", with the same end-of-month rule.
pub fn sub_months(date: NaiveDate, months: u32) -> NaiveDate {
    date.checked_sub_months(Months::new(months))
        .unwrap_or(NaiveDate::MIN)
}

pub fn add_days(date: NaiveDate, days: u64) -> NaiveDate {
    date.checked_add_days(Days::new(days))
        .unwrap_or(NaiveDate::MAX)
}

/// 31 December of the date's year.
pub fn end_of_year(date: NaiveDate) -> NaiveDate {
    NaiveDate::from_ymd_opt(date.year(), 12, 31).unwrap_or(date)
}

/// A closed span of days; `end` is `None` while it is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: NaiveDate,
    pub end: Option<NaiveDate>,
}

/// What accumulated work comes to on a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkProgress {
    /// Days counted up to and including `as_of`.
    pub days: u64,
    /// The day the count reaches the target: in the past or today when met; projected when an
    /// open span continues; `None` when it cannot be reached without new work.
    pub reached_on: Option<NaiveDate>,
}

/// Counts the calendar days after `after` (that day itself not counted) covered by at least one
/// span (overlaps count once), up to `as_of` for open spans, and finds the day the count reaches
/// `target_days`. Without `after`, counting starts at the first span.
pub fn accumulate_work(
    spans: &[Span],
    after: Option<NaiveDate>,
    target_days: u64,
    as_of: &AsOf,
) -> WorkProgress {
    let day = as_of.day();
    // Normalise to closed intervals starting the day after `after`.
    let first_day = after.map(|d| add_days(d, 1));
    let mut intervals: Vec<(NaiveDate, Option<NaiveDate>)> = spans
        .iter()
        .filter_map(|s| {
            let start = match first_day {
                Some(f) if s.start < f => f,
                _ => s.start,
            };
            match s.end {
                Some(end) if end < start => None,
                end => Some((start, end)),
            }
        })
        .collect();
    intervals.sort_by_key(|(start, _)| *start);

    // Merge overlapping or touching intervals; an open interval swallows everything after it.
    let mut merged: Vec<(NaiveDate, Option<NaiveDate>)> = Vec::new();
    for (start, end) in intervals {
        if let Some(last) = merged.last_mut() {
            let touches = match last.1 {
                None => true,
                Some(last_end) => start <= add_days(last_end, 1),
            };
            if touches {
                last.1 = match (last.1, end) {
                    (None, _) | (_, None) => None,
                    (Some(a), Some(b)) => Some(a.max(b)),
                };
                continue;
            }
        }
        merged.push((start, end));
    }

    let mut counted: u64 = 0;
    let mut reached_on = None;
    for (start, end) in merged {
        if !as_of.reached(start) {
            // Work that has not happened yet (a spell recorded ahead) counts only if it is open
            // and the projection reaches it; from its first day the count changes.
            if end.is_none() && reached_on.is_none() {
                let remaining = target_days.saturating_sub(counted);
                if remaining > 0 {
                    reached_on = Some(add_days(start, remaining - 1));
                }
            }
            break;
        }
        let counted_end = match end {
            Some(e) if e <= day => e,
            _ => day,
        };
        let length = (counted_end - start).num_days() as u64 + 1;
        if reached_on.is_none() && counted + length >= target_days {
            reached_on = Some(add_days(start, target_days - counted - 1));
        }
        counted += length;
        if end.is_none() || end.is_some_and(|e| e > day) {
            // The span runs on past today: the count grows every day. Project the rest of it on
            // the span (an open span continues; one with a recorded future end stops there).
            as_of.changes_daily();
            if reached_on.is_none() {
                let remaining = target_days.saturating_sub(counted);
                let projected = add_days(day, remaining);
                reached_on = match end {
                    None => Some(projected),
                    Some(e) if projected <= e => Some(projected),
                    _ => None,
                };
            }
            break;
        }
    }
    if target_days == 0 {
        // Until the first counted day comes, the answer is the evaluation date itself.
        if first_day.is_none_or(|f| f > day) {
            as_of.changes_daily();
        }
        reached_on = Some(first_day.unwrap_or(day).min(day));
    }
    WorkProgress {
        days: counted,
        reached_on,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn work(
        spans: &[Span],
        after: Option<NaiveDate>,
        target: u64,
        as_of: NaiveDate,
    ) -> WorkProgress {
        accumulate_work(spans, after, target, &AsOf::new(as_of))
    }

    #[test]
    fn years_follow_the_civil_code() {
        assert_eq!(add_years(d("2024-02-29"), 2), d("2026-02-28"));
        assert_eq!(add_years(d("2024-02-29"), 4), d("2028-02-29"));
        assert_eq!(add_years(d("2023-06-30"), 2), d("2025-06-30"));
        assert_eq!(add_months(d("2019-01-31"), 1), d("2019-02-28"));
        assert_eq!(end_of_year(d("2026-07-01")), d("2026-12-31"));
    }

    #[test]
    fn continuous_work_before_the_date_meets_on_d_plus_n_times_365() {
        // RULES.md: D = 2020-05-10, N = 4 → 2024-05-09.
        let spans = [Span {
            start: d("2018-01-01"),
            end: None,
        }];
        let p = work(&spans, Some(d("2020-05-10")), 4 * 365, d("2030-01-01"));
        assert_eq!(p.reached_on, Some(d("2024-05-09")));
        // Projected the same way while it is still in the future.
        let p = work(&spans, Some(d("2020-05-10")), 4 * 365, d("2022-01-01"));
        assert_eq!(p.reached_on, Some(d("2024-05-09")));
        assert!(p.days < 4 * 365);
    }

    #[test]
    fn overlaps_count_once_and_gaps_not_at_all() {
        let spans = [
            Span {
                start: d("2020-01-01"),
                end: Some(d("2020-12-31")),
            },
            Span {
                start: d("2020-06-01"),
                end: Some(d("2021-03-31")),
            }, // overlaps the first
            Span {
                start: d("2022-01-01"),
                end: Some(d("2022-01-10")),
            }, // after a gap
        ];
        let p = work(&spans, None, 10_000, d("2025-01-01"));
        assert_eq!(p.days, 366 + 31 + 28 + 31 + 10);
        assert_eq!(p.reached_on, None, "closed spans cannot reach the target");
    }

    #[test]
    fn the_reference_day_itself_is_not_counted() {
        let spans = [Span {
            start: d("2020-01-01"),
            end: Some(d("2020-01-10")),
        }];
        let p = work(&spans, Some(d("2020-01-05")), 5, d("2021-01-01"));
        assert_eq!(p.days, 5); // 6th to 10th
        assert_eq!(p.reached_on, Some(d("2020-01-10")));
        let p = work(&spans, Some(d("2020-01-05")), 6, d("2021-01-01"));
        assert_eq!(p.reached_on, None);
    }

    fn open(start: &str) -> Span {
        Span {
            start: d(start),
            end: None,
        }
    }

    fn closed(start: &str, end: &str) -> Span {
        Span {
            start: d(start),
            end: Some(d(end)),
        }
    }

    #[test]
    fn a_span_starting_on_the_date_counts_that_day() {
        let p = work(&[open("2024-03-01")], None, 10, d("2024-03-01"));
        assert_eq!(p.days, 1);
        assert_eq!(p.reached_on, Some(d("2024-03-10")));
    }

    #[test]
    fn a_one_day_span_counts_one_day() {
        let p = work(
            &[closed("2024-03-01", "2024-03-01")],
            None,
            1,
            d("2025-01-01"),
        );
        assert_eq!(p.days, 1);
        assert_eq!(p.reached_on, Some(d("2024-03-01")));
    }

    #[test]
    fn an_open_spell_recorded_ahead_projects_from_its_start_and_a_closed_one_not_at_all() {
        // Recorded today for a job starting next month.
        let p = work(&[open("2024-04-01")], None, 30, d("2024-03-01"));
        assert_eq!(p.days, 0);
        assert_eq!(p.reached_on, Some(d("2024-04-30")));
        // Earlier work counts first; the spell ahead carries the rest.
        let spans = [closed("2024-01-01", "2024-01-10"), open("2024-04-01")];
        let p = work(&spans, None, 30, d("2024-03-01"));
        assert_eq!(p.days, 10);
        assert_eq!(p.reached_on, Some(d("2024-04-20")));
        // A closed spell ahead is not work yet, and will not be continued.
        let p = work(
            &[closed("2024-04-01", "2024-12-31")],
            None,
            30,
            d("2024-03-01"),
        );
        assert_eq!((p.days, p.reached_on), (0, None));
    }

    #[test]
    fn a_span_ending_on_the_date_is_counted_whole_and_the_next_spell_ahead_carries_on() {
        let spans = [closed("2024-01-01", "2024-03-01"), open("2024-06-01")];
        let p = work(&spans, None, 100, d("2024-03-01"));
        assert_eq!(p.days, 61); // 31 + 29 + 1 (2024 is a leap year)
        assert_eq!(p.reached_on, Some(d("2024-07-09"))); // 39 more days from 1 June
    }

    #[test]
    fn touching_spans_count_every_day_once() {
        let spans = [
            closed("2024-01-01", "2024-01-10"),
            closed("2024-01-11", "2024-01-20"),
            closed("2024-01-05", "2024-01-15"),
        ];
        let p = work(&spans, None, 20, d("2024-12-31"));
        assert_eq!(p.days, 20);
        assert_eq!(p.reached_on, Some(d("2024-01-20")));
        // Days before the reference day are cut from the span that holds it.
        let p = work(&spans, Some(d("2024-01-12")), 8, d("2024-12-31"));
        assert_eq!(p.days, 8);
        assert_eq!(p.reached_on, Some(d("2024-01-20")));
        // A span that ended before the reference day is not counted.
        let p = work(
            &[closed("2023-01-01", "2023-12-31"), open("2024-02-01")],
            Some(d("2024-01-15")),
            5,
            d("2024-02-10"),
        );
        assert_eq!(p.days, 10);
        assert_eq!(p.reached_on, Some(d("2024-02-05")));
    }

    #[test]
    fn an_open_span_before_later_ones_swallows_them() {
        let spans = [open("2024-01-01"), closed("2024-02-01", "2024-02-10")];
        let p = work(&spans, None, 1000, d("2024-01-31"));
        assert_eq!(p.days, 31);
        assert_eq!(p.reached_on, Some(d("2026-09-26")));
    }

    #[test]
    fn nothing_to_reach_is_reached_on_the_first_counted_day_or_the_date() {
        let p = work(&[], Some(d("2024-01-15")), 0, d("2024-03-01"));
        assert_eq!(p.reached_on, Some(d("2024-01-16")));
        // Not later than the date itself.
        let p = work(&[], Some(d("2024-05-15")), 0, d("2024-03-01"));
        assert_eq!(p.reached_on, Some(d("2024-03-01")));
        let p = work(&[], None, 0, d("2024-03-01"));
        assert_eq!(p.reached_on, Some(d("2024-03-01")));
    }

    #[test]
    fn a_future_end_date_bounds_the_projection() {
        let spans = [Span {
            start: d("2024-01-01"),
            end: Some(d("2024-12-31")),
        }];
        let p = work(&spans, None, 100, d("2024-02-01"));
        assert_eq!(p.days, 32);
        assert_eq!(p.reached_on, Some(d("2024-04-09")));
        let p = work(&spans, None, 400, d("2024-02-01"));
        assert_eq!(p.reached_on, None);
    }

    /// A target of no days is reached on the evaluation date, or on the first countable day once
    /// it has come — also when the only work is ahead (no projection from it is attempted).
    #[test]
    fn a_target_of_no_days_is_reached_at_once_even_with_work_only_ahead() {
        let ahead = [Span {
            start: d("2025-03-01"),
            end: None,
        }];
        let p = work(&ahead, None, 0, d("2025-01-10"));
        assert_eq!((p.days, p.reached_on), (0, Some(d("2025-01-10"))));
    }

    /// Counting from the day after `after` with a target of no days: before that day the answer
    /// is the evaluation date itself and changes daily; from that day (the boundary included) it
    /// is that day, and holds.
    #[test]
    fn a_target_of_no_days_after_a_date_changes_daily_only_until_the_first_countable_day() {
        let horizon = |after: &str, on: &str| {
            let clock = AsOf::new(d(on));
            let p = accumulate_work(&[], Some(d(after)), 0, &clock);
            (p.reached_on, clock.horizon())
        };
        // The first countable day (2025-01-11) after the evaluation date.
        assert_eq!(
            horizon("2025-01-10", "2025-01-09"),
            (Some(d("2025-01-09")), Some(d("2025-01-10")))
        );
        // On it.
        assert_eq!(
            horizon("2025-01-10", "2025-01-11"),
            (Some(d("2025-01-11")), None)
        );
        // Before it.
        assert_eq!(
            horizon("2025-01-10", "2025-03-01"),
            (Some(d("2025-01-11")), None)
        );
    }

    /// The day a span starts is replaced by the first countable day only when it is earlier; a
    /// span starting on that day itself counts whole.
    #[test]
    fn a_span_starting_on_the_first_countable_day_counts_from_it() {
        let spans = [Span {
            start: d("2024-01-02"),
            end: Some(d("2024-01-11")),
        }];
        let p = work(&spans, Some(d("2024-01-01")), 10, d("2024-06-01"));
        assert_eq!((p.days, p.reached_on), (10, Some(d("2024-01-11"))));
    }
}

/// Appends `date` as YYYY-MM-DD, without the general formatting machinery: traces print many
/// dates and this is several times faster than `Display`.
pub fn push_ymd(out: &mut String, date: NaiveDate) {
    let year = date.year();
    if !(0..=9999).contains(&year) {
        out.push_str(&date.to_string());
        return;
    }
    let year = year.unsigned_abs();
    out.reserve(10);
    out.push_str(two_digits(year / 100));
    out.push_str(two_digits(year % 100));
    out.push('-');
    out.push_str(two_digits(date.month()));
    out.push('-');
    out.push_str(two_digits(date.day()));
}

/// `n` (below 100) as two digits, from a table.
fn two_digits(n: u32) -> &'static str {
    const PAIRS: &str = "00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899";
    let i = (n as usize % 100) * 2;
    PAIRS.get(i..i + 2).unwrap_or("00")
}

#[cfg(test)]
mod ymd_tests {
    fn ymd(date: chrono::NaiveDate) -> String {
        let mut out = String::new();
        super::push_ymd(&mut out, date);
        out
    }

    #[test]
    fn same_as_display() {
        for s in ["2024-02-29", "1990-01-01", "2026-11-29", "0999-12-31"] {
            let d = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
            assert_eq!(ymd(d), d.to_string());
        }
        // Years outside four digits fall back to chrono's own form.
        for (y, m, day) in [(12345, 6, 7), (-44, 3, 15), (10000, 1, 1)] {
            let d = chrono::NaiveDate::from_ymd_opt(y, m, day).unwrap();
            assert_eq!(ymd(d), d.to_string());
        }
    }
}
