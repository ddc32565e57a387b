//! Delegated Microsoft 365 sign-in as `Postdesk` operations: which settings a sign-in is for,
//! the system-browser flow with a one-shot loopback redirect listener, sign-out and the
//! signed-in account. The embedded-window flow (src-tauri) uses the same `SignIn`.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::app::{Error, Postdesk};
use crate::model::M365Flow;
use crate::oauth::{OAuthError, SignIn, Vault, M365};
use crate::validate::{Problem, Severity};

/// Path of the loopback redirect (the registered `http://localhost/postdesk/callback`, with
/// the listener's port: Entra lets loopback redirects of native apps use any port).
pub const CALLBACK_PATH: &str = "/postdesk/callback";

/// Largest request head the loopback listener reads.
const MAX_REQUEST: usize = 16 * 1024;

/// Why a sign-in could not be done.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// The settings do not allow a delegated sign-in (exit 2 in the CLI).
    #[error(transparent)]
    Settings(#[from] Error),
    /// No loopback listener for the redirect.
    #[error("cannot listen on loopback for the sign-in redirect: {0}")]
    Listen(std::io::Error),
    #[error("{0}")]
    Io(std::io::Error),
    /// The browser could not be started.
    #[error(transparent)]
    Browser(#[from] BrowserError),
    /// No redirect with this sign-in's state came back in time (`refused`: why the last
    /// request that did come was refused).
    #[error("no sign-in came back within {seconds} s: sign in again{}", refused.as_ref().map(|r| format!(" (a request was refused: {r})")).unwrap_or_default())]
    TimedOut { seconds: u64, refused: Option<String> },
    /// Entra refused the sign-in, or redeeming its code or storing the tokens failed.
    #[error(transparent)]
    OAuth(#[from] OAuthError),
}

/// Why the browser could not be opened on the sign-in page.
#[derive(Debug, thiserror::Error)]
pub enum BrowserError {
    #[error("cannot start the browser ({program}): {source}; open this address yourself: {url}")]
    Start { program: String, url: String, source: std::io::Error },
    #[cfg(windows)]
    #[error("not a web address, not opened: {url}")]
    NotWeb { url: String },
    #[cfg(windows)]
    #[error("cannot start the browser (ShellExecuteW error {code}); open this address yourself: {url}")]
    Shell { code: isize, url: String },
}

impl Postdesk {
    /// Starts a delegated sign-in in an embedded browser window: the authorization address
    /// (PKCE, random state) whose redirect to [`crate::app::REDIRECT_URI`] the window catches
    /// and hands to [`SignIn::finish`].
    pub fn begin_sign_in(&self, m: &M365) -> SignIn {
        SignIn::begin(m, crate::app::REDIRECT_URI, None)
    }

    /// The Microsoft 365 settings a delegated sign-in for `client` (none: global) uses.
    pub fn sign_in_settings(&self, client: Option<&str>) -> Result<M365, Error> {
        let config = self.load()?;
        let prefix = match client {
            Some(id) if !config.clients.contains_key(id) => return Err(Error::Invalid(vec![Problem::new(format!("client.{id}"), Severity::Error, "no such client")])),
            Some(id) => format!("client.{id}"),
            None => "global".into(),
        };
        let m = M365::from_config(&config, &prefix).map_err(|e| {
            let (key, msg) = match &e {
                OAuthError::NotM365 { prefix } => (format!("{prefix}.auth"), "not a Microsoft 365 method".to_string()),
                OAuthError::Required { key } => (key.clone(), "required for Microsoft 365".to_string()),
                other => ("auth".to_string(), other.to_string()),
            };
            Error::Invalid(vec![Problem::new(key, Severity::Error, format!("{msg} (sign-in needs auth m365-smtp or m365-graph)"))])
        })?;
        if m.flow != M365Flow::Delegated {
            return Err(Error::Invalid(vec![Problem::new(format!("{prefix}.m365.flow"), Severity::Error, "is app (client credentials): there is no user sign-in; set it to delegated to sign in")]));
        }
        Ok(m)
    }

    /// The account signed in for these settings, if any.
    pub fn signed_in_account(&self, m: &M365) -> Result<Option<String>, Error> {
        let has_token = self.secret(&m.refresh_key())?.is_some();
        Ok(if has_token { self.secret(&m.account_key())?.map(|a| a.expose().to_string()) } else { None })
    }

    /// Forgets the sign-in: refresh token and account leave the keychain, cached tokens memory.
    pub fn sign_out(&self, m: &M365) -> Result<(), Error> {
        self.clear_oauth(&m.refresh_key())?;
        self.clear_oauth(&m.account_key())?;
        crate::oauth::forget_cached_tokens();
        Ok(())
    }

    fn clear_oauth(&self, key: &str) -> Result<(), Error> {
        // Not a settings key, so not through `clear_secret`'s key check.
        Vault::clear(self, key).map_err(|e| Error::Invalid(vec![Problem::new(key.to_string(), Severity::Error, e.to_string())]))?;
        Ok(())
    }

    /// The system-browser flow: a loopback listener on a random port (both loopback families,
    /// as the redirect URI says `localhost`), the authorize URL handed to `open` (the default
    /// browser), redirect requests answered until the one with this sign-in's state comes (or
    /// the timeout), then the code redeemed and the refresh token stored. Gives the account.
    pub async fn sign_in_with_browser(&self, m: &M365, open: impl FnOnce(&str) -> Result<(), BrowserError>, timeout: Duration) -> Result<String, LoginError> {
        let listeners = bind_loopback().await.map_err(LoginError::Listen)?;
        let port = listeners[0].local_addr().map_err(LoginError::Io)?.port();
        let redirect_uri = format!("http://localhost:{port}{CALLBACK_PATH}");
        let sign_in = SignIn::begin(m, &redirect_uri, None);
        open(&sign_in.url)?;
        let mut refused: Option<String> = None;
        let url = match tokio::time::timeout(timeout, the_redirect(&listeners, port, &sign_in, &mut refused)).await {
            Err(_) => return Err(LoginError::TimedOut { seconds: timeout.as_secs(), refused }),
            Ok(r) => r?,
        };
        drop(listeners);
        Ok(sign_in.finish(&url, self).await?)
    }
}

/// A port free on both loopback addresses `localhost` can mean: 127.0.0.1 first, then the
/// same port on ::1, so no other local process can hold the other family and receive the
/// code. Where the machine has no IPv6 loopback, 127.0.0.1 alone.
async fn bind_loopback() -> std::io::Result<Vec<TcpListener>> {
    let mut last = None;
    for _ in 0..20 {
        let v4 = TcpListener::bind(("127.0.0.1", 0)).await?;
        let port = v4.local_addr()?.port();
        match TcpListener::bind((std::net::Ipv6Addr::LOCALHOST, port)).await {
            Ok(v6) => return Ok(vec![v4, v6]),
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => last = Some(e),
            // No IPv6 loopback here: nobody can listen on it either.
            Err(e) if matches!(e.kind(), std::io::ErrorKind::AddrNotAvailable | std::io::ErrorKind::Unsupported) || e.raw_os_error() == Some(97) => return Ok(vec![v4]),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no port free on both loopback addresses")))
}

/// Answers requests on the listeners until one is this sign-in's redirect with its state;
/// returns that redirect's full URL. Anything else (a favicon, a port scan, another path, a
/// wrong or missing state) is answered 404 or 400 and the listening goes on; `refused` keeps
/// why the last one was refused. The listeners close when the caller drops them.
async fn the_redirect(listeners: &[TcpListener], port: u16, sign_in: &SignIn, refused: &mut Option<String>) -> Result<String, LoginError> {
    loop {
        let accepted = match listeners {
            [one] => one.accept().await,
            [a, b, ..] => tokio::select! { r = a.accept() => r, r = b.accept() => r },
            [] => return Err(LoginError::Io(std::io::Error::other("no loopback listener"))),
        };
        let Ok((mut stream, _)) = accepted else { continue };
        // A client that never sends its request does not hold up the others for long.
        let head = match tokio::time::timeout(Duration::from_secs(5), read_head(&mut stream)).await {
            Ok(Ok(head)) => head,
            _ => continue,
        };
        let text = String::from_utf8_lossy(&head);
        let target = text.lines().next().and_then(|l| l.strip_prefix("GET ")).and_then(|l| l.split(' ').next()).unwrap_or("");
        let url = format!("http://localhost:{port}{target}");
        /// What one request was.
        enum Seen {
            /// Not the redirect (another path, a favicon, a scan): 404, listen on.
            Stray,
            /// The redirect path with a wrong or missing state: 400, listen on.
            Refused(String),
            /// The redirect of this sign-in: signed in, or Entra's refusal.
            Answer(Result<String, OAuthError>),
        }
        let seen = if !sign_in.is_redirect(&url) {
            Seen::Stray
        } else if !has_state(&url, sign_in.state.secret()) {
            Seen::Refused("the sign-in answer does not belong to this sign-in (state mismatch)".into())
        } else {
            Seen::Answer(sign_in.code_from_redirect(&url).map(|_| url.clone()))
        };
        let (status, message) = match &seen {
            Seen::Stray => ("404 Not Found", "Not found.".to_string()),
            Seen::Refused(why) => ("400 Bad Request", format!("Sign-in failed: {why}")),
            Seen::Answer(Err(why)) => ("400 Bad Request", format!("Sign-in failed: {why}")),
            Seen::Answer(Ok(_)) => ("200 OK", "Signed in. You can close this tab and return to Postdesk.".to_string()),
        };
        let escaped = message.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
        let body = format!("<!doctype html><html><head><meta charset=\"utf-8\"><title>Postdesk sign-in</title></head><body><p>{escaped}</p></body></html>");
        let reply = format!("HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\nCache-Control: no-store\r\n\r\n{body}", body.len());
        let _ = stream.write_all(reply.as_bytes()).await;
        let _ = stream.shutdown().await;
        match seen {
            Seen::Answer(answer) => return Ok(answer?),
            Seen::Refused(why) => *refused = Some(why),
            Seen::Stray => *refused = Some(format!("a request for {} (not the sign-in redirect)", target.split('?').next().unwrap_or(""))),
        }
    }
}

async fn read_head(stream: &mut tokio::net::TcpStream) -> std::io::Result<Vec<u8>> {
    let mut head = Vec::new();
    let mut buf = [0u8; 2048];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).await?;
        if n == 0 || head.len() + n > MAX_REQUEST {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    Ok(head)
}

/// Whether the redirect carries exactly this sign-in's `state`.
fn has_state(url: &str, state: &str) -> bool {
    url::Url::parse(url).is_ok_and(|u| u.query_pairs().any(|(k, v)| k == "state" && v == state))
}

/// Opens `url` in the default browser: the first program of `$BROWSER` (a `%s` in it is
/// replaced by the URL, else the URL is appended), else the desktop's opener (`xdg-open`,
/// `open`, `start`). Does not wait for the browser.
pub fn open_in_browser(url: &str) -> Result<(), BrowserError> {
    let browser = std::env::var("BROWSER").ok();
    // Windows: no program named ⇒ the shell's default handler, never through cmd.exe (`start`
    // would read the URL's `&` as a command separator).
    #[cfg(windows)]
    if browser.as_deref().and_then(|b| b.split(':').next()).map_or(true, |f| f.trim().is_empty()) {
        return shell_open(url);
    }
    let (program, args) = browser_command(browser.as_deref(), url);
    let mut child = std::process::Command::new(&program)
        .args(&args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .spawn()
        .map_err(|source| BrowserError::Start { program: program.clone(), url: url.into(), source })?;
    // Reap it whenever it ends, without waiting here.
    std::thread::spawn(move || {
        let _ = child.wait();
    });
    Ok(())
}

/// The program and arguments that open `url`: the first entry of `browser` (`$BROWSER`) when
/// it names a program, else the desktop's opener. (`BROWSER=":x"` or only blanks name none.)
fn browser_command(browser: Option<&str>, url: &str) -> (String, Vec<String>) {
    let first = browser.and_then(|b| b.split(':').next()).unwrap_or("");
    let mut words = first.split_whitespace().map(String::from);
    match words.next() {
        Some(program) => {
            let mut words: Vec<String> = words.collect();
            if words.iter().any(|w| w.contains("%s")) {
                (program, words.into_iter().map(|w| w.replace("%s", url)).collect())
            } else {
                words.push(url.to_string());
                (program, words)
            }
        }
        None if cfg!(target_os = "macos") => ("open".into(), vec![url.into()]),
        None => ("xdg-open".into(), vec![url.into()]),
    }
}

/// Windows: hands an http(s) URL to the shell's default handler (`ShellExecuteW`, verb
/// "open"), with no command interpreter in between.
#[cfg(windows)]
fn shell_open(url: &str) -> Result<(), BrowserError> {
    use windows_sys::Win32::UI::Shell::ShellExecuteW;
    use windows_sys::Win32::UI::WindowsAndMessaging::SW_SHOWNORMAL;
    let web = url::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "https" | "http"));
    if !web {
        return Err(BrowserError::NotWeb { url: url.into() });
    }
    let wide = |s: &str| s.encode_utf16().chain(std::iter::once(0)).collect::<Vec<u16>>();
    let (verb, file) = (wide("open"), wide(url));
    // SAFETY: `verb` and `file` are NUL-terminated UTF-16 strings that outlive the call; no
    // owner window, parameters or working directory (null is allowed for each).
    let code = unsafe { ShellExecuteW(std::ptr::null_mut(), verb.as_ptr(), file.as_ptr(), std::ptr::null(), std::ptr::null(), SW_SHOWNORMAL) };
    // Values above 32 mean success (the documented HINSTANCE convention).
    if code as isize > 32 {
        Ok(())
    } else {
        Err(BrowserError::Shell { code: code as isize, url: url.into() })
    }
}

/// What the window shows about the Microsoft 365 sign-in: the account, or why not.
#[derive(serde::Serialize, Clone, Debug, Default, ts_rs::TS)]
#[ts(export)]
pub struct SignInStatus {
    /// The signed-in account, if any.
    pub account: Option<String>,
    /// Why the last sign-in failed, or why none is possible with the saved settings.
    pub error: Option<String>,
    /// What to do about `error` (ERRORS.md).
    pub hint: Option<String>,
}

impl SignInStatus {
    pub fn signed_in(account: String) -> SignInStatus {
        SignInStatus { account: Some(account), ..SignInStatus::default() }
    }

    pub fn failed(error: impl std::fmt::Display) -> SignInStatus {
        let error = error.to_string();
        let hint = crate::hints::hint_for(crate::diagnosis::Stage::Token, &error).map(String::from);
        SignInStatus { account: None, error: Some(error), hint }
    }
}

impl Postdesk {
    /// The sign-in state of the saved settings, for the window.
    pub fn sign_in_status(&self, client: Option<&str>) -> SignInStatus {
        let account = self.sign_in_settings(client).and_then(|m| self.signed_in_account(&m));
        match account {
            Ok(Some(a)) => SignInStatus::signed_in(a),
            Ok(None) => SignInStatus::default(),
            Err(e) => SignInStatus { error: Some(e.to_string()), ..SignInStatus::default() },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_browser_variable_gives_a_command_without_panicking() {
        let url = "http://localhost:1/x";
        assert_eq!(browser_command(Some("firefox --new-window"), url), ("firefox".into(), vec!["--new-window".into(), url.into()]));
        assert_eq!(browser_command(Some("w3m %s -dump:lynx"), url), ("w3m".into(), vec![url.into(), "-dump".into()]));
        let opener = browser_command(None, url).0;
        for odd in [":firefox", "  :x", "", " ", ":", "\t"] {
            assert_eq!(browser_command(Some(odd), url).0, opener, "BROWSER={odd:?}");
        }
    }
}
