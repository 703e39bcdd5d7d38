//! A headless Chromium driven through the W3C WebDriver protocol (chromedriver), spoken
//! directly over HTTP: enough for the browser tests to load pages, fill forms, click, read and
//! take screenshots. Without `chromedriver` and `chromium` on the machine the tests skip.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{json, Value};

/// The W3C name of an element reference in WebDriver answers.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

pub struct Driver {
    process: Child,
    url: String,
    client: reqwest::Client,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

fn find_program(names: &[&str]) -> Option<String> {
    let path = std::env::var("PATH").unwrap_or_default();
    names.iter().find_map(|name| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
            .map(|p| p.to_string_lossy().into_owned())
    })
}

impl Driver {
    /// Starts chromedriver on a free port; `None` (with the reason) when the machine has no
    /// browser for it.
    pub async fn start() -> Result<Driver, String> {
        let driver = find_program(&["chromedriver"]).ok_or("no chromedriver on PATH")?;
        find_program(&["chromium", "chromium-browser", "google-chrome"])
            .ok_or("no chromium on PATH")?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let process = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("chromedriver: {e}"))?;
        let driver = Driver {
            process,
            url: format!("http://127.0.0.1:{port}"),
            client: reqwest::Client::new(),
        };
        let started = Instant::now();
        loop {
            let ready = driver
                .client
                .get(format!("{}/status", driver.url))
                .send()
                .await
                .ok();
            if let Some(resp) = ready {
                if let Ok(status) = resp.json::<Value>().await {
                    if status["value"]["ready"] == json!(true) {
                        return Ok(driver);
                    }
                }
            }
            if started.elapsed() > Duration::from_secs(20) {
                return Err("chromedriver did not become ready".into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// A new headless browser window of a phone's size, reading Chinese first.
    pub async fn browser(&self, width: u32, height: u32) -> Browser {
        let binary = find_program(&["chromium", "chromium-browser", "google-chrome"]);
        let mut options = json!({
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                format!("--window-size={width},{height}"), "--lang=zh-CN", "--hide-scrollbars",
                "--force-device-scale-factor=1"
            ],
            "prefs": {"intl.accept_languages": "zh-CN,zh"},
            // A window is at least 500 px wide; a phone's viewport is emulated instead.
            "mobileEmulation": {"deviceMetrics": {"width": width, "height": height, "pixelRatio": 1.0}}
        });
        if let Some(binary) = binary {
            options["binary"] = json!(binary);
        }
        let resp: Value = self
            .client
            .post(format!("{}/session", self.url))
            .json(&json!({"capabilities": {"alwaysMatch": {
                "browserName": "chrome", "goog:chromeOptions": options}}}))
            .send()
            .await
            .expect("new session")
            .json()
            .await
            .expect("new session answer");
        let id = resp["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {resp}"))
            .to_owned();
        Browser {
            base: format!("{}/session/{id}", self.url),
            client: self.client.clone(),
        }
    }
}

pub struct Browser {
    base: String,
    client: reqwest::Client,
}

impl Browser {
    /// A WebDriver command's value, or its error.
    async fn try_call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, Value> {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let answer: Value = request
            .send()
            .await
            .expect("webdriver")
            .json()
            .await
            .expect("webdriver answer");
        if answer["value"]["error"].is_string() {
            Err(answer["value"].clone())
        } else {
            Ok(answer["value"].clone())
        }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        self.try_call(method, path, body)
            .await
            .unwrap_or_else(|error| panic!("webdriver {path}: {error}"))
    }

    pub async fn goto(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({"url": url})))
            .await;
    }

    pub async fn url(&self) -> String {
        self.call(reqwest::Method::GET, "/url", None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The first element that matches a CSS selector.
    pub async fn find(&self, css: &str) -> String {
        let found = self
            .call(
                reqwest::Method::POST,
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        found[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}: {found}"))
            .to_owned()
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let element = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{element}/value"),
            Some(json!({"text": text})),
        )
        .await;
    }

    pub async fn click(&self, css: &str) {
        let element = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{element}/click"),
            Some(json!({})),
        )
        .await;
    }

    /// The text the page shows (its body's rendered text); empty while a page is loading.
    pub async fn text(&self) -> String {
        self.try_call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": "return document.body ? document.body.innerText : '';", "args": []})),
        )
        .await
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
    }

    /// Runs a script in the page and returns its value.
    pub async fn script(&self, script: &str) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
        .await
    }

    /// Waits until `script` (which may return a promise) answers `true`.
    pub async fn wait_for_script(&self, what: &str, script: &str) {
        let started = Instant::now();
        while self.script(script).await != json!(true) {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "never true: {what}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the page's address ends with `suffix` (a form's redirect took place).
    pub async fn wait_for_path(&self, suffix: &str) {
        let started = Instant::now();
        while !self.url().await.ends_with(suffix) {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "still at {} instead of …{suffix}",
                self.url().await
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until the page shows `needle` (a form's answer arrived); the page's text.
    pub async fn wait_for_text(&self, needle: &str) -> String {
        let started = Instant::now();
        loop {
            let text = self.text().await;
            if text.contains(needle) {
                return text;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "the page never showed {needle:?}: {text}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A PNG of the window.
    pub async fn screenshot(&self) -> Vec<u8> {
        let data = self.call(reqwest::Method::GET, "/screenshot", None).await;
        base64::engine::general_purpose::STANDARD
            .decode(data.as_str().unwrap_or_default())
            .expect("a PNG")
    }

    /// A PNG of one element (the first that matches a CSS selector), as a camera would see it.
    pub async fn element_screenshot(&self, css: &str) -> Vec<u8> {
        let element = self.find(css).await;
        let data = self
            .call(
                reqwest::Method::GET,
                &format!("/element/{element}/screenshot"),
                None,
            )
            .await;
        base64::engine::general_purpose::STANDARD
            .decode(data.as_str().unwrap_or_default())
            .expect("a PNG")
    }

    pub async fn close(self) {
        let _ = self.client.delete(&self.base).send().await;
    }
}
