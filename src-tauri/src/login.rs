//! Microsoft 365 delegated sign-in in an embedded window: the login page is an External URL
//! in a window labelled `m365-login`, which no capability names (so its pages can call no
//! command), whose title shows the real host of the page, and whose navigation to the
//! redirect URI is caught and cancelled (`on_navigation` returns false) to read code + state.
//! The system-browser choice runs `postdesk_core`'s loopback flow instead. Both reach Entra
//! through the proxy the token requests use (see `embedded_sign_in`).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use postdesk_core::{open_in_browser, Postdesk, SignInStatus, M365};
use tauri::{AppHandle, Manager, WebviewUrl, WebviewWindowBuilder, WindowEvent};
use tokio::sync::oneshot;

/// The login window's label: listed in no capability (see capabilities/default.json).
pub const LOGIN_LABEL: &str = "m365-login";
/// How long a sign-in may take.
const SIGN_IN_TIMEOUT: Duration = Duration::from_secs(600);

fn title_for(url: &str) -> String {
    let host = tauri::Url::parse(url).ok().and_then(|u| u.host_str().map(String::from).map(|h| match u.port() {
        Some(p) => format!("{h}:{p}"),
        None => h,
    }));
    format!("Sign in to Microsoft — {}", host.unwrap_or_else(|| "?".into()))
}

/// Where the login window may go: https pages only, and the configured authority's own origin
/// (which may be a loopback http test peer). No file:, data:, javascript:, blob:, custom
/// schemes or other plain http; the redirect URI is caught before this is asked.
fn navigation_allowed(url: &str, authority: Option<&tauri::Url>) -> bool {
    tauri::Url::parse(url).is_ok_and(|u| u.scheme() == "https" || authority.is_some_and(|a| u.scheme() == "http" && u.origin() == a.origin()))
}

/// Opens the login window and waits for the redirect (or the window being closed).
pub async fn embedded_sign_in(app: &AppHandle, postdesk: &Postdesk, m: &M365) -> Result<String, String> {
    if let Some(old) = app.get_webview_window(LOGIN_LABEL) {
        let _ = old.destroy();
    }
    let sign_in = Arc::new(postdesk.begin_sign_in(m));
    let (tx, rx) = oneshot::channel::<Option<String>>();
    let tx = Arc::new(Mutex::new(Some(tx)));
    let url: tauri::Url = sign_in.url.parse().map_err(|e| format!("the sign-in address is not valid: {e}"))?;
    let (nav_sign_in, nav_tx, nav_app) = (sign_in.clone(), tx.clone(), app.clone());
    let authority = tauri::Url::parse(&m.authority).ok();
    let mut builder = WebviewWindowBuilder::new(app, LOGIN_LABEL, WebviewUrl::External(url)).title(title_for(&sign_in.url)).inner_size(520.0, 680.0);
    // The same proxy as the token requests (`proxy.*`, HTTPS_PROXY/NO_PROXY, the desktop's):
    // decided for the sign-in page's host. WebKit asks for proxy credentials itself (the
    // embedded window has no prompt for them: a proxy that wants a login needs the system
    // browser, whose own proxy settings apply).
    if let Some(proxy) = m.proxy_for(&m.authorize_url())? {
        let proxy_url = tauri::Url::parse(&format!("http://{}", proxy.url)).map_err(|e| format!("the proxy address is not valid: {e}"))?;
        builder = builder.proxy_url(proxy_url);
    }
    let window = builder
        .on_navigation(move |u| {
            let u = u.as_str();
            if nav_sign_in.is_redirect(u) {
                if let Some(tx) = nav_tx.lock().expect("lock").take() {
                    let _ = tx.send(Some(u.to_string()));
                }
                return false;
            }
            if !navigation_allowed(u, authority.as_ref()) {
                return false;
            }
            // The title always names the host the page really comes from.
            if let Some(w) = nav_app.get_webview_window(LOGIN_LABEL) {
                let _ = w.set_title(&title_for(u));
            }
            true
        })
        .build()
        .map_err(|e| format!("the sign-in window could not open: {e}"))?;
    let closed_tx = tx.clone();
    window.on_window_event(move |event| {
        if matches!(event, WindowEvent::Destroyed) {
            if let Some(tx) = closed_tx.lock().expect("lock").take() {
                let _ = tx.send(None);
            }
        }
    });
    let outcome = tokio::time::timeout(SIGN_IN_TIMEOUT, rx).await;
    // Hidden, not destroyed, until the code is redeemed: with `postdesk login` it is the last
    // window, and destroying it would end the program before the token is stored.
    let _ = window.hide();
    let result = match outcome {
        Err(_) => Err(format!("no sign-in came back within {} s: sign in again", SIGN_IN_TIMEOUT.as_secs())),
        Ok(Err(_)) | Ok(Ok(None)) => Err("the sign-in window was closed before the sign-in finished: sign in again".into()),
        Ok(Ok(Some(redirect))) => sign_in.finish(&redirect, postdesk).await.map_err(|e| e.to_string()),
    };
    let _ = window.destroy();
    result
}

/// "Sign in with Microsoft": embedded window, or the system browser when asked for.
pub async fn m365_sign_in(app: &AppHandle, postdesk: &Postdesk, browser: bool) -> SignInStatus {
    let m = match postdesk.sign_in_settings(None) {
        Ok(m) => m,
        Err(e) => return SignInStatus::failed(e),
    };
    let result = if browser {
        postdesk.sign_in_with_browser(&m, open_in_browser, SIGN_IN_TIMEOUT).await.map_err(|e| e.to_string())
    } else {
        embedded_sign_in(app, postdesk, &m).await
    };
    match result {
        Ok(account) => SignInStatus::signed_in(account),
        Err(e) => SignInStatus::failed(e),
    }
}

/// Forgets the sign-in; the status afterwards.
pub fn m365_sign_out(postdesk: &Postdesk) -> SignInStatus {
    match postdesk.sign_in_settings(None).and_then(|m| postdesk.sign_out(&m)) {
        Ok(()) => postdesk.sign_in_status(None),
        Err(e) => SignInStatus::failed(e),
    }
}

/// `postdesk login` without --browser: only the login window, then the outcome on stdout.
pub fn run_cli_login(app: &AppHandle, client: Option<String>, exit: Arc<Mutex<u8>>) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let postdesk = app.state::<Postdesk>();
        let code = match postdesk.sign_in_settings(client.as_deref()) {
            Err(e) => {
                eprintln!("postdesk: {e}");
                postdesk_cli::EXIT_CONFIG
            }
            Ok(m) => match embedded_sign_in(&app, &postdesk, &m).await {
                Ok(account) => {
                    println!("Signed in as {account}");
                    0
                }
                Err(e) => {
                    let status = SignInStatus::failed(&e);
                    eprintln!("postdesk: token: {e}");
                    if let Some(h) = status.hint {
                        eprintln!("postdesk: what to do: {h}");
                    }
                    postdesk_cli::EXIT_FAILED
                }
            },
        };
        *exit.lock().expect("lock") = code;
        app.exit(i32::from(code));
    });
}

#[cfg(test)]
mod tests {
    use super::navigation_allowed;

    #[test]
    fn the_login_window_goes_to_https_and_the_configured_authority_only() {
        let loopback = tauri::Url::parse("http://127.0.0.1:4711").unwrap();
        let microsoft = tauri::Url::parse("https://login.microsoftonline.com").unwrap();
        for url in ["https://login.microsoftonline.com/t/oauth2/v2.0/authorize?x=1", "https://aadcdn.msftauth.net/a.js", "http://127.0.0.1:4711/t/oauth2/v2.0/authorize"] {
            assert!(navigation_allowed(url, Some(&loopback)), "{url}");
        }
        for url in [
            "http://login.microsoftonline.com/t/oauth2/v2.0/authorize",
            "http://127.0.0.1:4712/elsewhere",
            "http://localhost:4711/",
            "file:///etc/passwd",
            "data:text/html,<script>1</script>",
            "javascript:alert(1)",
            "blob:https://login.microsoftonline.com/1",
            "tauri://localhost/index.html",
            "ipc://localhost/load_form",
            "not a url",
        ] {
            assert!(!navigation_allowed(url, Some(&loopback)), "{url}");
        }
        assert!(!navigation_allowed("http://127.0.0.1:4711/", Some(&microsoft)));
        assert!(!navigation_allowed("http://127.0.0.1:4711/", None));
        assert!(navigation_allowed("https://login.microsoftonline.com/", None));
    }
}
