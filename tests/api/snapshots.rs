//! Stored progress (snapshots): on every day it is said to hold, the stored answer is the live
//! evaluation byte for byte; every change to a learner's records, a certificate decision or the
//! catalog leaves no stale answer behind.

use chrono::{Days, NaiveDate};
use rand::{rngs::StdRng, Rng, SeedableRng};
use serde_json::json;

use crate::helpers::{spawn_app, TestApp};
use crate::milestones::{decide, student, verify};
use skillpath::db::progress_snapshots::{self, SnapshotRow};
use skillpath::domain::{today_in_shanghai, LearnerId};
use skillpath::services::eligibility::{packed_body, progress};

async fn snapshot(app: &TestApp, learner: i64) -> Option<SnapshotRow> {
    let id = LearnerId(learner);
    app.state
        .db
        .read(move |conn| Ok(progress_snapshots::find(conn, id)?))
        .await
        .unwrap()
}

/// A stored snapshot's JSON.
fn stored_json(row: &SnapshotRow) -> String {
    packed_body::unpack(&row.packed_body).unwrap()
}

/// The answer for `day` as the server would give it (stored when it holds) and as computed
/// now; the computation stores nothing unless `day` is today.
async fn stored_and_live(app: &TestApp, learner: i64, day: NaiveDate) -> (String, bool, String) {
    let (id, parameters) = (LearnerId(learner), app.state.parameters.clone());
    app.state
        .db
        .read(move |conn| {
            let today = today_in_shanghai();
            let answer = progress::answer(conn, &parameters, id, day, today)?;
            let live = progress::compute_answer(conn, &parameters, id, day, today)?;
            Ok((answer.to_json()?, answer.from_snapshot, live.to_json()?))
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn a_stored_progress_answers_every_day_it_holds_exactly_as_computed() {
    let app = spawn_app().await;
    let db = app.state.db.clone();
    let today = today_in_shanghai();
    tokio::task::spawn_blocking(move || {
        skillpath::services::seed::seed(&db, 160, 23, false).unwrap();
        // The nightly pass writes every learner's snapshot.
        skillpath::services::eligibility::recompute_all(&db, today).unwrap();
    })
    .await
    .unwrap();
    let mut rng = StdRng::seed_from_u64(5);
    let (mut held, mut bounded, mut last_days) = (0, 0, 0);
    for learner in 1..=160 {
        let row = snapshot(&app, learner)
            .await
            .unwrap_or_else(|| panic!("learner {learner} has no snapshot after the nightly pass"));
        assert_eq!(row.valid_from, today);
        let end = row
            .valid_until
            .unwrap_or_else(|| today.checked_add_days(Days::new(4000)).unwrap());
        assert!(end > today, "{row:?}");
        bounded += usize::from(row.valid_until.is_some());
        let span = (end - today).num_days() as u64;
        // Today, the last day it holds, the first it does not, and days in between and after.
        let mut days = vec![today, end.pred_opt().unwrap(), end];
        let mut asked_last = false;
        for _ in 0..4 {
            days.push(
                today
                    .checked_add_days(Days::new(rng.gen_range(0..span)))
                    .unwrap(),
            );
        }
        days.push(
            end.checked_add_days(Days::new(rng.gen_range(0..400)))
                .unwrap(),
        );
        for day in days {
            let (stored, from_snapshot, live) = stored_and_live(&app, learner, day).await;
            assert_eq!(
                from_snapshot,
                row.valid_until.is_none_or(|until| day < until),
                "learner {learner} on {day}: {row:?}"
            );
            assert_eq!(
                stored, live,
                "learner {learner} on {day} (stored until {end})"
            );
            held += usize::from(from_snapshot);
            asked_last |= from_snapshot && day == end.pred_opt().unwrap();
        }
        last_days += usize::from(asked_last);
    }
    // Not vacuous: most answers came from snapshots, most ranges end, and the last day of a
    // range was asked of every learner.
    assert!(held > 160 * 5, "{held}");
    assert!(bounded > 40, "{bounded} of 160 snapshots have an end");
    assert_eq!(last_days, 160);
}

#[tokio::test]
async fn every_change_rewrites_or_removes_the_stored_progress() {
    let app = spawn_app().await;
    let l = student(&app).await;
    verify(&app, &l).await;
    let today = today_in_shanghai();

    // The certificate decision's transaction wrote it.
    let first = snapshot(&app, l.id).await.expect("written by the decision");
    assert_eq!(first.valid_from, today);
    let sent = app.get("/api/v1/me/progress", Some(&l.me)).await;
    assert_eq!(sent.status(), 200);
    let sent = sent.text().await.unwrap();
    let (stored, from_snapshot, live) = stored_and_live(&app, l.id, today).await;
    assert!(from_snapshot);
    assert_eq!(sent, stored);
    assert_eq!(sent, live);

    // A job recorded by staff: written again in that transaction, and true.
    let resp = app
        .post(
            &format!("/api/v1/learners/{}/employments", l.id),
            &json!({"employer_name": "某制造企业", "start_date": "2025-07-01",
                    "occupation_code": "6-18-02-04", "post_title": "电工"}),
            Some(&l.staff),
        )
        .await;
    assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());
    let second = snapshot(&app, l.id)
        .await
        .expect("written by the employment");
    assert_ne!(stored_json(&second), stored_json(&first));
    let (stored, from_snapshot, live) = stored_and_live(&app, l.id, today).await;
    assert!(from_snapshot);
    assert_eq!(stored, live);

    // A revocation: the learner's answer no longer counts the certificate.
    decide(&app, &l, "revoke", "证书被发证机构注销").await;
    let third = snapshot(&app, l.id)
        .await
        .expect("written by the revocation");
    let third = stored_json(&third);
    assert!(third.contains("\"revoked\""), "{third}");
    let (stored, _, live) = stored_and_live(&app, l.id, today).await;
    assert_eq!(stored, live);

    // A write no code path follows with a refresh (here: by hand) still removes it.
    app.state
        .db
        .read(|conn| {
            use diesel::RunQueryDsl;
            let sql = "UPDATE employments SET employer_name = 'renamed'";
            skillpath::each_backend!(conn, c => diesel::sql_query(sql).execute(c))?;
            Ok(())
        })
        .await
        .unwrap();
    assert!(snapshot(&app, l.id).await.is_none());
    let resp = app.get("/api/v1/me/progress", Some(&l.me)).await;
    assert_eq!(resp.status(), 200);
    let sent = resp.text().await.unwrap();
    assert!(snapshot(&app, l.id).await.is_some(), "stored by the read");
    let (stored, from_snapshot, live) = stored_and_live(&app, l.id, today).await;
    assert!(from_snapshot);
    assert_eq!((&sent, &stored), (&live, &live));

    // A catalog change removes every learner's: the engine reads the catalog for all of them.
    app.create_occupation(&l.admin, "6-18-02-05", "电气设备安装工")
        .await;
    assert!(snapshot(&app, l.id).await.is_none());
    let (stored, from_snapshot, live) = stored_and_live(&app, l.id, today).await;
    assert!(!from_snapshot);
    assert_eq!(stored, live);
    assert!(snapshot(&app, l.id).await.is_some());

    // A day it does not hold is computed and not stored; a day it holds is answered from it.
    let before = snapshot(&app, l.id).await.unwrap();
    let yesterday = today.pred_opt().unwrap();
    let resp = app
        .get(
            &format!("/api/v1/me/progress?as_of={yesterday}"),
            Some(&l.me),
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        snapshot(&app, l.id).await.unwrap().computed_at,
        before.computed_at
    );
    if let Some(last) = before.valid_until.and_then(|u| u.pred_opt()) {
        let (stored, from_snapshot, live) = stored_and_live(&app, l.id, last).await;
        assert!(from_snapshot || last == today);
        assert_eq!(stored, live);
    }
}

/// A client accepting gzip is sent the stored bytes framed as gzip, which decompress to exactly
/// the JSON any other client is sent; a day not stored is gzip too; `q=0` and `identity` are
/// honoured.
#[tokio::test]
async fn progress_is_sent_as_gzip_to_a_client_that_accepts_it() {
    use std::io::Read;
    let app = spawn_app().await;
    let l = student(&app).await;
    verify(&app, &l).await;
    let fetch = |path: String, accept: Option<&'static str>| {
        let mut request = app.client.get(app.url(&path)).bearer_auth(&l.me);
        if let Some(accept) = accept {
            request = request.header("accept-encoding", accept);
        }
        async move {
            let resp = request.send().await.unwrap();
            assert_eq!(resp.status(), 200);
            assert_eq!(resp.headers()["vary"], "accept-encoding");
            let coding = resp
                .headers()
                .get("content-encoding")
                .map(|v| v.to_str().unwrap().to_owned());
            (coding, resp.bytes().await.unwrap().to_vec())
        }
    };
    let yesterday = today_in_shanghai().pred_opt().unwrap();
    for path in [
        "/api/v1/me/progress".to_owned(),
        format!("/api/v1/me/progress?as_of={yesterday}"),
    ] {
        let (coding, plain) = fetch(path.clone(), None).await;
        assert_eq!(coding, None);
        let plain = String::from_utf8(plain).unwrap();
        serde_json::from_str::<serde_json::Value>(&plain).unwrap();
        for accept in [
            "gzip",
            "br, gzip;q=0.8, identity;q=0.5",
            "gzip, deflate, br, zstd",
        ] {
            let (coding, gzip) = fetch(path.clone(), Some(accept)).await;
            assert_eq!(coding.as_deref(), Some("gzip"), "{accept}");
            let mut sent = String::new();
            flate2::read::GzDecoder::new(gzip.as_slice())
                .read_to_string(&mut sent)
                .unwrap();
            assert_eq!(sent, plain, "{path} with {accept}");
            assert!(
                gzip.len() * 2 < plain.len(),
                "{} of {}",
                gzip.len(),
                plain.len()
            );
        }
        for accept in ["identity", "gzip;q=0", "deflate", "gzip;q=0.5, identity"] {
            let (coding, body) = fetch(path.clone(), Some(accept)).await;
            assert_eq!(coding, None, "{accept}");
            assert_eq!(String::from_utf8(body).unwrap(), plain, "{accept}");
        }
    }
}
