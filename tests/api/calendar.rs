//! The learner's calendar feed end to end, read by an independent iCalendar parser (the `ical`
//! crate): the event of an upcoming milestone with its alarms, the same UID with a higher
//! SEQUENCE when the date moves or the language changes, a cancelled event when the milestone is
//! withdrawn, and an address that can be replaced and turned off.

use std::io::BufReader;
use std::time::Duration;

use ical::parser::ical::component::{IcalCalendar, IcalEvent};
use serde_json::{json, Value};

use crate::delivery::wait_until;
use crate::helpers::{assert_problem, spawn_app, TestApp};
use crate::milestones::{decide, student_with, verify};

fn prop<'a>(properties: &'a [ical::property::Property], name: &str) -> Option<&'a str> {
    properties
        .iter()
        .find(|p| p.name == name)
        .and_then(|p| p.value.as_deref())
}

/// The feed at `path`, as the parser reads it, and its text.
async fn fetch(app: &TestApp, path: &str) -> (IcalCalendar, String) {
    let resp = app.get(path, None).await;
    assert_eq!(resp.status(), 200);
    let content_type = resp.headers()["content-type"].to_str().unwrap().to_owned();
    assert_eq!(content_type, "text/calendar; charset=utf-8");
    assert_eq!(resp.headers()["cache-control"], "private, no-store");
    let text = resp.text().await.unwrap();
    for line in text.split("\r\n") {
        assert!(line.len() <= 75, "a line longer than 75 octets: {line}");
    }
    let mut parser = ical::IcalParser::new(BufReader::new(text.as_bytes()));
    let calendar = parser
        .next()
        .expect("one calendar")
        .unwrap_or_else(|e| panic!("does not parse: {e}\n{text}"));
    assert!(parser.next().is_none(), "only one calendar");
    assert_eq!(prop(&calendar.properties, "VERSION"), Some("2.0"));
    (calendar, text)
}

/// The event of the 技师 milestone (on 2027-06-28, or 2028-06-28 once moved).
fn technician_event(calendar: &IcalCalendar) -> &IcalEvent {
    calendar
        .events
        .iter()
        .find(|e| {
            prop(&e.properties, "SUMMARY")
                .is_some_and(|s| s.contains("技师") || s.contains("Technician two years"))
                && prop(&e.properties, "DTSTART").is_some_and(|d| d.ends_with("0628"))
        })
        .unwrap_or_else(|| panic!("no 技师 event in {calendar:?}"))
}

fn triggers(event: &IcalEvent) -> Vec<String> {
    let mut t: Vec<String> = event
        .alarms
        .iter()
        .map(|a| prop(&a.properties, "TRIGGER").unwrap().to_owned())
        .collect();
    t.sort();
    t
}

fn path_of(url: &str) -> String {
    let at = url.find("/api/v1/calendar/").expect("a feed address");
    url[at..].to_owned()
}

/// Turns the learner's feed on and has a calendar fetch it once; answers the feed's path.
pub async fn turn_on_calendar(app: &TestApp, token: &str) -> String {
    let resp = app
        .post("/api/v1/me/calendar", &json!({}), Some(token))
        .await;
    assert_eq!(resp.status(), 201);
    let made: Value = resp.json().await.unwrap();
    let path = path_of(made["url"].as_str().unwrap());
    fetch(app, &path).await;
    path
}

#[tokio::test]
async fn a_learner_follows_their_milestones_in_their_own_calendar() {
    let app = spawn_app().await;
    // 高级工 issued 2025-06-28 during the enrollment: 技师 from 2027-06-28.
    let l = student_with(&app, "2025-06-28").await;
    verify(&app, &l).await;

    let state = app.get_json("/api/v1/me/calendar", &l.me).await;
    assert_eq!(state["enabled"], false);
    for other in [&l.staff, &l.admin, &l.evaluator] {
        assert_problem(
            app.post("/api/v1/me/calendar", &json!({}), Some(other))
                .await,
            403,
            "forbidden",
        )
        .await;
    }
    let resp = app
        .post("/api/v1/me/calendar", &json!({}), Some(&l.me))
        .await;
    assert_eq!(resp.status(), 201);
    let made: Value = resp.json().await.unwrap();
    let url = made["url"].as_str().unwrap();
    assert!(url.ends_with(".ics"));
    assert!(made["webcal_url"]
        .as_str()
        .unwrap()
        .starts_with("webcal://"));
    let path = path_of(url);

    // An upcoming milestone: an all-day event on its date, in Chinese, alarms at 09:00 30 and 7
    // days before (the reminder days), the next step and the clause in the description.
    let (calendar, first_text) = fetch(&app, &path).await;
    let event = technician_event(&calendar);
    let uid = prop(&event.properties, "UID").unwrap().to_owned();
    assert!(uid.ends_with("@skillpath"));
    assert_eq!(prop(&event.properties, "DTSTART"), Some("20270628"));
    assert_eq!(prop(&event.properties, "DTEND"), Some("20270629"));
    assert!(prop(&event.properties, "SUMMARY")
        .unwrap()
        .starts_with("可申请："));
    assert_eq!(prop(&event.properties, "SEQUENCE"), Some("0"));
    assert_eq!(prop(&event.properties, "STATUS"), Some("CONFIRMED"));
    let description = prop(&event.properties, "DESCRIPTION").unwrap();
    assert!(description.contains("2027-06-28起可申请"), "{description}");
    assert!(description.contains("五(七)"), "{description}");
    assert_eq!(triggers(event), ["-P29DT15H", "-P6DT15H"]);
    let state = app.get_json("/api/v1/me/calendar", &l.me).await;
    assert_eq!(state["enabled"], true);
    assert!(state["last_fetched_at"].is_string());

    // Fetched again with nothing changed: the same events, the same versions.
    let (_, again) = fetch(&app, &path).await;
    assert_eq!(again, first_text);

    // A parameter change moves the date a year later: the same event (UID), a higher SEQUENCE.
    let today = skillpath::domain::today_in_shanghai().to_string();
    let resp = app
        .post(
            "/api/v1/rules/parameters",
            &json!({"name": "sh489.technician_after_senior_worker.holding_years", "value": 3,
                "effective_from": today, "source": "测试", "clause": "五(七)"}),
            Some(&l.admin),
        )
        .await;
    assert_eq!(resp.status(), 201);
    wait_until("the event to move", Duration::from_secs(30), async || {
        let (calendar, _) = fetch(&app, &path).await;
        prop(&technician_event(&calendar).properties, "DTSTART") == Some("20280628")
    })
    .await;
    let (calendar, _) = fetch(&app, &path).await;
    let moved = technician_event(&calendar);
    assert_eq!(prop(&moved.properties, "UID"), Some(uid.as_str()));
    assert_eq!(prop(&moved.properties, "SEQUENCE"), Some("1"));

    // The learner reads English: the same event, in English, one version later.
    let resp = app
        .patch(
            &format!("/api/v1/learners/{}", l.id),
            &json!({"preferred_language": "en"}),
            Some(&l.me),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let (calendar, _) = fetch(&app, &path).await;
    let english = technician_event(&calendar);
    assert!(prop(&english.properties, "SUMMARY")
        .unwrap()
        .starts_with("Eligible: "));
    assert_eq!(prop(&english.properties, "SEQUENCE"), Some("2"));
    assert_eq!(
        prop(&calendar.properties, "X-WR-CALNAME"),
        Some("Skillpath milestones")
    );

    // The certificate is revoked: the milestone is withdrawn, the event cancelled (no alarm).
    decide(&app, &l, "revoke", "证书已注销").await;
    let (calendar, _) = fetch(&app, &path).await;
    let cancelled = technician_event(&calendar);
    assert_eq!(prop(&cancelled.properties, "UID"), Some(uid.as_str()));
    assert_eq!(prop(&cancelled.properties, "STATUS"), Some("CANCELLED"));
    assert_eq!(prop(&cancelled.properties, "SEQUENCE"), Some("3"));
    assert!(cancelled.alarms.is_empty());

    // A new address: the old one stops working; the events keep their identity.
    let resp = app
        .post("/api/v1/me/calendar", &json!({}), Some(&l.me))
        .await;
    assert_eq!(resp.status(), 201);
    let renewed: Value = resp.json().await.unwrap();
    let new_path = path_of(renewed["url"].as_str().unwrap());
    assert_ne!(new_path, path);
    assert_problem(app.get(&path, None).await, 404, "not_found").await;
    let (calendar, _) = fetch(&app, &new_path).await;
    assert_eq!(
        prop(&technician_event(&calendar).properties, "UID"),
        Some(uid.as_str())
    );

    // Turned off: the address answers 404; turning it off again changes nothing.
    for _ in 0..2 {
        let resp = app
            .send(
                app.client
                    .delete(app.url("/api/v1/me/calendar"))
                    .bearer_auth(&l.me),
            )
            .await;
        assert_eq!(resp.status(), 204);
    }
    assert_problem(app.get(&new_path, None).await, 404, "not_found").await;
    let state = app.get_json("/api/v1/me/calendar", &l.me).await;
    assert_eq!(state["enabled"], false);
    // What the feed showed is forgotten with it (nothing would fetch it again).
    assert!(crate::personal_data::count_rows(&app, "calendar_entries", "learner_id", l.id) == 0);
}

#[tokio::test]
async fn addresses_that_are_not_a_feed_answer_404() {
    let app = spawn_app().await;
    for token in [
        "x",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA%20",
        "..%2F..%2Fetc",
    ] {
        assert_problem(
            app.get(&format!("/api/v1/calendar/{token}.ics"), None)
                .await,
            404,
            "not_found",
        )
        .await;
    }
}
