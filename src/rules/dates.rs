//! The date arithmetic of the rules (RULES.md, "Date arithmetic").

use chrono::{Datelike, Days, Months, NaiveDate};

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
    as_of: NaiveDate,
) -> WorkProgress {
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
        if start > as_of {
            // Work that has not happened yet (a spell recorded ahead) counts only if it is open
            // and the projection reaches it.
            if end.is_none() && reached_on.is_none() {
                let remaining = target_days.saturating_sub(counted);
                if remaining > 0 {
                    reached_on = Some(add_days(start, remaining - 1));
                }
            }
            break;
        }
        let counted_end = match end {
            Some(e) if e <= as_of => e,
            _ => as_of,
        };
        let length = (counted_end - start).num_days() as u64 + 1;
        if reached_on.is_none() && counted + length >= target_days {
            reached_on = Some(add_days(start, target_days - counted - 1));
        }
        counted += length;
        if end.is_none() || end.is_some_and(|e| e > as_of) {
            // The span runs on past today: project the rest of the count on it (an open span
            // continues; a span with a recorded future end stops there).
            if reached_on.is_none() {
                let remaining = target_days.saturating_sub(counted);
                let projected = add_days(as_of, remaining);
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
        reached_on = Some(first_day.unwrap_or(as_of).min(as_of));
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
        let p = accumulate_work(&spans, Some(d("2020-05-10")), 4 * 365, d("2030-01-01"));
        assert_eq!(p.reached_on, Some(d("2024-05-09")));
        // Projected the same way while it is still in the future.
        let p = accumulate_work(&spans, Some(d("2020-05-10")), 4 * 365, d("2022-01-01"));
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
        let p = accumulate_work(&spans, None, 10_000, d("2025-01-01"));
        assert_eq!(p.days, 366 + 31 + 28 + 31 + 10);
        assert_eq!(p.reached_on, None, "closed spans cannot reach the target");
    }

    #[test]
    fn the_reference_day_itself_is_not_counted() {
        let spans = [Span {
            start: d("2020-01-01"),
            end: Some(d("2020-01-10")),
        }];
        let p = accumulate_work(&spans, Some(d("2020-01-05")), 5, d("2021-01-01"));
        assert_eq!(p.days, 5); // 6th to 10th
        assert_eq!(p.reached_on, Some(d("2020-01-10")));
        let p = accumulate_work(&spans, Some(d("2020-01-05")), 6, d("2021-01-01"));
        assert_eq!(p.reached_on, None);
    }

    #[test]
    fn a_future_end_date_bounds_the_projection() {
        let spans = [Span {
            start: d("2024-01-01"),
            end: Some(d("2024-12-31")),
        }];
        let p = accumulate_work(&spans, None, 100, d("2024-02-01"));
        assert_eq!(p.days, 32);
        assert_eq!(p.reached_on, Some(d("2024-04-09")));
        let p = accumulate_work(&spans, None, 400, d("2024-02-01"));
        assert_eq!(p.reached_on, None);
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
    let digits = |n: u32, width: usize, out: &mut String| {
        let mut buf = [b'0'; 4];
        let mut n = n;
        for slot in buf[..width].iter_mut().rev() {
            *slot = b'0' + (n % 10) as u8;
            n /= 10;
        }
        out.extend(buf[..width].iter().map(|b| *b as char));
    };
    digits(year as u32, 4, out);
    out.push('-');
    digits(date.month(), 2, out);
    out.push('-');
    digits(date.day(), 2, out);
}

pub fn ymd(date: NaiveDate) -> String {
    let mut out = String::with_capacity(10);
    push_ymd(&mut out, date);
    out
}

#[cfg(test)]
mod ymd_tests {
    #[test]
    fn same_as_display() {
        for s in ["2024-02-29", "1990-01-01", "2026-11-29", "0999-12-31"] {
            let d = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
            assert_eq!(super::ymd(d), d.to_string());
        }
    }
}
