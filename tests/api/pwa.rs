//! The pages as an installable app: a manifest with icons, and a service worker served where its
//! scope is the whole site, under a policy that lets it fetch the site's own pages.

use crate::helpers::spawn_app;

#[tokio::test]
async fn the_pages_are_an_installable_app_with_a_service_worker() {
    let app = spawn_app().await;
    let client = reqwest::Client::new();
    let login = client.get(app.url("/login")).send().await.unwrap();
    let body = login.text().await.unwrap();
    assert!(body.contains("<link rel=\"manifest\" href=\"/manifest.webmanifest\">"));
    assert!(body.contains("/app.js\" defer></script>"));

    let manifest = client
        .get(app.url("/manifest.webmanifest"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        manifest.headers()["content-type"],
        "application/manifest+json"
    );
    let manifest: serde_json::Value = manifest.json().await.unwrap();
    assert_eq!(
        (manifest["start_url"].as_str(), manifest["display"].as_str()),
        (Some("/"), Some("standalone"))
    );
    for icon in manifest["icons"].as_array().unwrap() {
        let got = client
            .get(app.url(icon["src"].as_str().unwrap()))
            .send()
            .await
            .unwrap();
        assert_eq!(got.status(), 200);
        assert_eq!(got.headers()["content-type"], "image/png");
        assert!(got.bytes().await.unwrap().starts_with(b"\x89PNG"));
    }

    let worker = client.get(app.url("/sw.js")).send().await.unwrap();
    assert_eq!(worker.status(), 200);
    assert!(worker.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    assert_eq!(worker.headers()["cache-control"], "no-cache");
    let policy = worker.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(policy.starts_with("default-src 'self'"), "{policy}");
    let script = worker.text().await.unwrap();
    assert!(
        script.contains("\"/progress\""),
        "keeps the progress page only"
    );
}
