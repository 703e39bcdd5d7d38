//! The learner's "My data" page through HTTP as a browser sends it: the download, the calendar
//! feed, a correction request and the deletion of the account, each form with its CSRF token.

use std::io::{Cursor, Read};

use crate::helpers::PASSWORD;
use crate::pages::Browser;
use crate::shares::world;

#[tokio::test]
async fn a_learner_downloads_subscribes_asks_and_deletes_from_their_data_page() {
    let app = crate::helpers::spawn_app().await;
    let w = world(&app).await;
    let mut learner = Browser::new(&app);
    assert_eq!(learner.log_in("wang@x.cn", PASSWORD).await.status, 303);
    let page = learner.get("/my-data").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("下载我的数据"));
    assert!(page.body.contains("日历订阅未开启"));
    let csrf = page.hidden("csrf");

    // The download: the same zip as the API's.
    let zip = learner.get_bytes("/my-data/export").await;
    let mut archive = zip::ZipArchive::new(Cursor::new(zip)).expect("a zip");
    let mut json = String::new();
    archive
        .by_name("export.json")
        .unwrap()
        .read_to_string(&mut json)
        .unwrap();
    assert!(json.contains("王芳"));

    // The calendar: on (the address shown once, and it works), then off.
    let on = learner
        .post("/my-data/calendar", &[("csrf", &csrf), ("action", "on")])
        .await;
    assert_eq!(on.status, 200, "{}", on.body);
    let start = on.body.find("id=\"calendar-url\">").unwrap() + "id=\"calendar-url\">".len();
    let end = on.body[start..].find('<').unwrap() + start;
    let url = &on.body[start..end];
    let path = &url[url.find("/api/v1/calendar/").unwrap()..];
    assert_eq!(app.get(path, None).await.status(), 200);
    assert!(on.body.contains("webcal://"));
    let off = learner
        .post("/my-data/calendar", &[("csrf", &csrf), ("action", "off")])
        .await;
    assert!(off.body.contains("日历订阅已关闭"));
    assert_eq!(app.get(path, None).await.status(), 404);
    // A form that is no button of the page makes no address.
    let unknown = learner
        .post("/my-data/calendar", &[("csrf", &csrf), ("action", "")])
        .await;
    assert_eq!(unknown.status, 422);
    assert!(!unknown.body.contains("webcal://"));

    // A correction of the name: asked, listed as waiting; a bad birth date refused.
    let asked = learner
        .post(
            "/my-data/corrections",
            &[
                ("csrf", &csrf),
                ("field", "name"),
                ("value", "王芳芳"),
                ("reason", "户口本为准"),
            ],
        )
        .await;
    assert_eq!(asked.status, 200, "{}", asked.body);
    assert!(asked.body.contains("更正申请已提交"));
    assert!(asked.body.contains("待处理"));
    let bad = learner
        .post(
            "/my-data/corrections",
            &[
                ("csrf", &csrf),
                ("field", "birth_date"),
                ("value", "昨天"),
                ("reason", "x"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422);
    // A field the learner may not ask about is refused, not filed as another one.
    let other_field = learner
        .post(
            "/my-data/corrections",
            &[
                ("csrf", &csrf),
                ("field", "hukou"),
                ("value", "上海"),
                ("reason", "x"),
            ],
        )
        .await;
    assert_eq!(other_field.status, 422);
    assert_eq!(
        other_field.body.matches("待处理").count(),
        1,
        "still the one request"
    );

    // The deletion: the box must be ticked; asked, then cancelled.
    let unticked = learner
        .post("/my-data/deletion", &[("csrf", &csrf), ("action", "ask")])
        .await;
    assert_eq!(unticked.status, 422);
    assert!(unticked.body.contains("请勾选确认"));
    let asked = learner
        .post(
            "/my-data/deletion",
            &[("csrf", &csrf), ("action", "ask"), ("confirm", "yes")],
        )
        .await;
    assert!(asked.body.contains("已安排删除账户"), "{}", asked.body);
    assert!(asked.body.contains("id=\"deletion-cancel\""));
    let cancelled = learner
        .post(
            "/my-data/deletion",
            &[("csrf", &csrf), ("action", "cancel")],
        )
        .await;
    assert!(cancelled.body.contains("已取消删除账户"));

    // A form without its CSRF token changes nothing.
    let forged = learner
        .post("/my-data/calendar", &[("csrf", "forged"), ("action", "on")])
        .await;
    assert_eq!(forged.status, 403);
    // Staff have no such page.
    let mut staff = Browser::new(&app);
    assert_eq!(staff.log_in("staff@c.cn", PASSWORD).await.status, 303);
    assert_eq!(staff.get("/my-data").await.status, 403);
    let _ = w.hr_a;
}
