//! The real window for the end-to-end suites (`e2e`, `a11y`): tauri-driver in front of
//! WebKitWebDriver, the app in throwaway data and XDG folders (no machine policy), and the
//! waits, clicks and screenshots the tests share.
#![allow(dead_code)] // each suite uses its own part

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use postdesk_tests::{postdesk_bin, require_keychain, root};
use serde_json::json;

pub const WAIT: Duration = Duration::from_secs(20);

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// tauri-driver in front of WebKitWebDriver; stopped with SIGTERM so WebKitWebDriver goes too.
pub struct TauriDriver {
    child: Child,
    port: u16,
}

impl TauriDriver {
    /// Starts tauri-driver; the app it starts keeps its data in `data` and its XDG
    /// directories under `home` (`sandbox_env`).
    pub fn start(data: &Path, home: &Path) -> TauriDriver {
        let bin = std::env::var("TAURI_DRIVER").unwrap_or_else(|_| "tauri-driver".into());
        let port = free_port();
        let child = Command::new(&bin)
            .args(["--port", &port.to_string(), "--native-port", &free_port().to_string()])
            .envs(sandbox_env(data, home))
            .env("NO_AT_BRIDGE", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("{bin} does not start ({e}): `make test` installs it with cargo install tauri-driver"));
        TauriDriver { child, port }
    }

    pub async fn session(&self) -> Client {
        self.session_with_args(&[]).await
    }

    /// A session with the app started as `postdesk ARGS…`.
    pub async fn session_with_args(&self, args: &[&str]) -> Client {
        let mut caps = serde_json::Map::new();
        caps.insert("tauri:options".into(), json!({ "application": postdesk_bin(), "args": args }));
        caps.insert("browserName".into(), json!("wry"));
        let url = format!("http://127.0.0.1:{}", self.port);
        let deadline = Instant::now() + WAIT;
        loop {
            match ClientBuilder::new(HttpConnector::new()).capabilities(caps.clone()).connect(&url).await {
                Ok(client) => return client,
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => panic!("no WebDriver session with the app: {e}"),
            }
        }
    }
}

impl Drop for TauriDriver {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let _ = self.child.wait();
    }
}

pub fn css(selector: &str) -> Locator<'_> {
    Locator::Css(selector)
}

pub fn key(k: &str) -> String {
    format!("[data-key=\"{k}\"]")
}

pub async fn find(c: &Client, selector: &str) -> fantoccini::elements::Element {
    c.wait().at_most(WAIT).for_element(css(selector)).await.unwrap_or_else(|e| panic!("{selector}: {e}"))
}

/// Clears a field and types `value` into it, as a person would.
pub async fn type_into(c: &Client, selector: &str, value: &str) {
    let el = find(c, selector).await;
    el.clear().await.unwrap();
    el.send_keys(value).await.unwrap();
}

pub async fn click(c: &Client, selector: &str) {
    let el = find(c, selector).await;
    if el.click().await.is_err() {
        // A styled switch may hide the native checkbox: click it the way a label would.
        c.execute("arguments[0].click()", vec![serde_json::to_value(&el).unwrap()]).await.unwrap();
    }
}

pub async fn choose(c: &Client, key_name: &str, value: &str) {
    click(c, &format!("{} option[value=\"{value}\"]", key(key_name))).await;
}

pub async fn value_of(c: &Client, selector: &str) -> String {
    find(c, selector).await.prop("value").await.unwrap().unwrap_or_default()
}

pub async fn wait_text(c: &Client, selector: &str, expected: &str) -> String {
    let deadline = Instant::now() + WAIT;
    let mut last = String::new();
    while Instant::now() < deadline {
        if let Ok(el) = c.find(css(selector)).await {
            last = el.text().await.unwrap_or_default();
            if last.contains(expected) {
                return last;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{selector} never said {expected:?}; last: {last:?}");
}

/// Like [`wait_text`] on `textContent`: WebKitWebDriver reports no rendered text for an
/// ellipsized span that has a `title` (the screenshots show it is on screen).
pub async fn wait_content(c: &Client, selector: &str, expected: &str) {
    let deadline = Instant::now() + WAIT;
    let mut last = json!(null);
    while Instant::now() < deadline {
        last = c.execute("const e = document.querySelector(arguments[0]); return e ? e.textContent : null", vec![json!(selector)]).await.unwrap();
        if last.as_str().is_some_and(|t| t.contains(expected)) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{selector} never held {expected:?}; last: {last}");
}

pub async fn wait_gone(c: &Client, selector: &str) {
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        if c.find(css(selector)).await.is_err() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{selector} is still there");
}

pub async fn section(c: &Client, name: &str) {
    click(c, &format!("[data-section=\"{name}\"]")).await;
    find(c, &format!("[data-panel=\"{name}\"]")).await;
}

pub async fn screenshot(c: &Client, name: &str) {
    // Two animation frames so what is shown is what was just changed.
    c.execute_async("requestAnimationFrame(() => requestAnimationFrame(() => arguments[0]()))", vec![]).await.unwrap();
    // WebKitWebDriver takes the screenshot after the page's next paint. Without GL
    // compositing (src-tauri/src/webkit.rs) an idle page never paints again, and the
    // screenshot would wait forever: repaint an invisible outline until it is taken.
    c.execute(
        "const s = document.documentElement.style; \
         window.__pdRepaint = setInterval(() => { s.outline = s.outline ? '' : '1px solid transparent'; }, 50)",
        vec![],
    )
    .await
    .unwrap();
    let png = c.screenshot().await.unwrap();
    c.execute("clearInterval(window.__pdRepaint); document.documentElement.style.outline = ''", vec![]).await.unwrap();
    let dir = screenshot_dir();
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
}

pub fn screenshot_dir() -> PathBuf {
    std::env::var_os("POSTDESK_SCREENSHOTS").map(PathBuf::from).unwrap_or_else(|| root().join("target/screenshots"))
}

/// The window tests need the keychain and a display (`make test` provides both).
pub fn require_window() {
    require_keychain();
    assert!(std::env::var_os("DISPLAY").is_some(), "no DISPLAY: `make test` runs this under Xvfb");
}

/// The app's data directory and its XDG directories, all in throwaway folders.
pub fn sandbox_env(data: &Path, home: &Path) -> Vec<(&'static str, PathBuf)> {
    vec![
        ("POSTDESK_DATA_DIR", data.to_path_buf()),
        ("XDG_DATA_HOME", home.join("data")),
        ("XDG_CONFIG_HOME", home.join("config")),
        ("XDG_CACHE_HOME", home.join("cache")),
        // The debug build's test hook (src-tauri/src/files.rs): a native file dialog's answer
        // is the first line of this file, and a dropped file may come from the page's event.
        ("POSTDESK_E2E_FILE_DIALOG", dialog_answer_file(home)),
        // The organization's policy: none unless a test writes it (never the machine's own).
        ("POSTDESK_POLICY_FILE", home.join("policy.json")),
    ]
}

/// Where the test writes what the next native file dialog answers (empty: cancelled).
pub fn dialog_answer_file(home: &Path) -> PathBuf {
    home.join("dialog-answer")
}

/// The next native file dialog (export, import, CSV) answers `path`.
pub fn answer_dialog(home: &Path, path: &Path) {
    std::fs::write(dialog_answer_file(home), format!("{}\n", path.display())).unwrap();
}
