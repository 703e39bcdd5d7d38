//! iCalendar (RFC 5545) text of a learner's feed: all-day events with alarms, escaped and folded
//! as the RFC asks. Pure: what to show is decided by the caller.

use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime};

/// One event as a calendar client keeps it.
#[derive(Debug, Clone)]
pub struct Event<'a> {
    pub uid: &'a str,
    /// When this version of the event was made (DTSTAMP, LAST-MODIFIED).
    pub stamp: NaiveDateTime,
    pub date: NaiveDate,
    pub summary: &'a str,
    pub description: &'a str,
    pub sequence: i32,
    pub cancelled: bool,
    /// Alarms at `alarm_time` this many days before the date (0: on the day).
    pub alarm_days: &'a [u32],
    pub alarm_time: NaiveTime,
}

/// The whole feed: a calendar named `name` holding `events`.
pub fn calendar(name: &str, events: &[Event<'_>]) -> String {
    let mut out = String::with_capacity(512 + events.len() * 600);
    line(&mut out, "BEGIN:VCALENDAR");
    line(&mut out, "VERSION:2.0");
    line(&mut out, "PRODID:-//Skillpath//Milestones//ZH");
    line(&mut out, "CALSCALE:GREGORIAN");
    // No METHOD: a subscription is not a scheduling message, so DTSTAMP is when an event was
    // last revised (RFC 5545 3.8.7.2) and the feed reads the same until something changes.
    property(&mut out, "X-WR-CALNAME", name);
    line(&mut out, "X-WR-TIMEZONE:Asia/Shanghai");
    // Clients that honour it fetch twice a day (RFC 7986 5.7).
    line(&mut out, "REFRESH-INTERVAL;VALUE=DURATION:PT12H");
    line(&mut out, "X-PUBLISHED-TTL:PT12H");
    // The events are all-day (floating dates); the time zone is there for clients that want
    // one, and makes a feed without events a valid calendar (one component at least).
    let offset = crate::domain::SHANGHAI.local_minus_utc() / 60;
    let offset = format!("{:+03}{:02}", offset / 60, offset % 60);
    for l in [
        "BEGIN:VTIMEZONE".to_owned(),
        "TZID:Asia/Shanghai".to_owned(),
        "BEGIN:STANDARD".to_owned(),
        "DTSTART:19700101T000000".to_owned(),
        format!("TZOFFSETFROM:{offset}"),
        format!("TZOFFSETTO:{offset}"),
        "TZNAME:CST".to_owned(),
        "END:STANDARD".to_owned(),
        "END:VTIMEZONE".to_owned(),
    ] {
        line(&mut out, &l);
    }
    for event in events {
        vevent(&mut out, event);
    }
    line(&mut out, "END:VCALENDAR");
    out
}

fn vevent(out: &mut String, e: &Event<'_>) {
    let stamp = e.stamp.format("%Y%m%dT%H%M%SZ").to_string();
    line(out, "BEGIN:VEVENT");
    property(out, "UID", e.uid);
    line(out, &format!("DTSTAMP:{stamp}"));
    line(out, &format!("LAST-MODIFIED:{stamp}"));
    line(
        out,
        &format!("DTSTART;VALUE=DATE:{}", e.date.format("%Y%m%d")),
    );
    let end = e.date + Duration::days(1);
    line(out, &format!("DTEND;VALUE=DATE:{}", end.format("%Y%m%d")));
    property(out, "SUMMARY", e.summary);
    property(out, "DESCRIPTION", e.description);
    line(out, &format!("SEQUENCE:{}", e.sequence));
    line(
        out,
        if e.cancelled {
            "STATUS:CANCELLED"
        } else {
            "STATUS:CONFIRMED"
        },
    );
    line(out, "TRANSP:TRANSPARENT");
    if !e.cancelled {
        for days in e.alarm_days {
            line(out, "BEGIN:VALARM");
            line(out, "ACTION:DISPLAY");
            property(out, "DESCRIPTION", e.summary);
            line(out, &format!("TRIGGER:{}", trigger(*days, e.alarm_time)));
            line(out, "END:VALARM");
        }
    }
    line(out, "END:VEVENT");
}

/// The offset from the start of an all-day event (its midnight) to `at` on the day `days` days
/// earlier, as an RFC 5545 duration (3.3.6).
pub fn trigger(days: u32, at: NaiveTime) -> String {
    let offset = at.signed_duration_since(NaiveTime::MIN) - Duration::days(i64::from(days));
    let sign = if offset < Duration::zero() { "-" } else { "" };
    let seconds = offset.num_seconds().abs();
    let (days, hours, minutes) = (
        seconds / 86_400,
        seconds % 86_400 / 3600,
        seconds % 3600 / 60,
    );
    let mut out = format!("{sign}P");
    if days > 0 {
        out.push_str(&format!("{days}D"));
    }
    if hours > 0 || minutes > 0 || days == 0 {
        out.push('T');
        if hours > 0 || minutes == 0 {
            out.push_str(&format!("{hours}H"));
        }
        if minutes > 0 {
            out.push_str(&format!("{minutes}M"));
        }
    }
    out
}

/// A property whose value is TEXT (RFC 5545 3.3.11): backslash, semicolon, comma and newline
/// escaped.
fn property(out: &mut String, name: &str, value: &str) {
    let mut text = String::with_capacity(name.len() + value.len() + 8);
    text.push_str(name);
    text.push(':');
    for c in value.chars() {
        match c {
            '\\' => text.push_str("\\\\"),
            ';' => text.push_str("\\;"),
            ',' => text.push_str("\\,"),
            '\n' => text.push_str("\\n"),
            '\r' => {}
            c if c.is_control() => {}
            c => text.push(c),
        }
    }
    line(out, &text);
}

/// One content line, folded so that no line is longer than 75 octets (RFC 5545 3.1): a fold
/// never splits a UTF-8 character; each continuation starts with a space.
fn line(out: &mut String, content: &str) {
    let mut width = 0;
    for c in content.chars() {
        let len = c.len_utf8();
        if width + len > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += len;
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn event<'a>(summary: &'a str, description: &'a str, alarms: &'a [u32]) -> Event<'a> {
        Event {
            uid: "abc@skillpath",
            stamp: date("2026-12-05").and_hms_opt(1, 2, 3).unwrap(),
            date: date("2027-06-28"),
            summary,
            description,
            sequence: 2,
            cancelled: false,
            alarm_days: alarms,
            alarm_time: nine(),
        }
    }

    fn nine() -> NaiveTime {
        NaiveTime::from_hms_opt(9, 0, 0).unwrap()
    }

    #[test]
    fn lines_are_folded_at_75_octets_between_characters() {
        let long = "技师".repeat(40);
        let text = calendar("名称", &[event(&long, "a", &[])]);
        for l in text.split("\r\n") {
            assert!(l.len() <= 75, "{} octets: {l}", l.len());
        }
        let unfolded = text.replace("\r\n ", "");
        assert!(unfolded.contains(&format!("SUMMARY:{long}\r\n")));
        assert!(text.ends_with("END:VCALENDAR\r\n"));
        assert!(!text.replace("\r\n", "").contains('\n'));
    }

    #[test]
    fn the_time_zone_is_shanghais_offset() {
        let text = calendar("c", &[]);
        assert!(
            text.contains("TZOFFSETFROM:+0800\r\nTZOFFSETTO:+0800\r\n"),
            "{text}"
        );
    }

    #[test]
    fn text_values_are_escaped() {
        let text = calendar("c", &[event("a,b;c\\d", "line one\nline two", &[])]);
        assert!(text.contains("SUMMARY:a\\,b\\;c\\\\d\r\n"), "{text}");
        assert!(
            text.contains("DESCRIPTION:line one\\nline two\r\n"),
            "{text}"
        );
    }

    #[test]
    fn alarms_ring_at_nine_on_their_day() {
        assert_eq!(trigger(0, nine()), "PT9H");
        assert_eq!(trigger(1, nine()), "-PT15H");
        assert_eq!(trigger(30, nine()), "-P29DT15H");
        let half_past = NaiveTime::from_hms_opt(8, 30, 0).unwrap();
        assert_eq!(trigger(7, half_past), "-P6DT15H30M");
        assert_eq!(trigger(0, NaiveTime::MIN), "PT0H");
        let text = calendar("c", &[event("s", "d", &[30, 7, 0])]);
        assert_eq!(text.matches("BEGIN:VALARM").count(), 3);
        assert!(text.contains("DTSTART;VALUE=DATE:20270628\r\nDTEND;VALUE=DATE:20270629\r\n"));
        assert!(text.contains("DTSTAMP:20261205T010203Z\r\n"));
        assert!(text.contains("SEQUENCE:2\r\nSTATUS:CONFIRMED\r\n"));
    }

    #[test]
    fn a_cancelled_event_has_no_alarm() {
        let mut e = event("s", "d", &[30]);
        e.cancelled = true;
        let text = calendar("c", &[e]);
        assert!(text.contains("STATUS:CANCELLED"));
        assert!(!text.contains("VALARM"));
    }
}
