//! Delegated Microsoft 365 sign-in as `Postdesk` operations: which settings a sign-in is for,
//! the system-browser flow with a one-shot loopback redirect listener, sign-out and the
//! signed-in account. The embedded-window flow (src-tauri) uses the same `SignIn`.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::app::{Error, Postdesk};
use crate::model::M365Flow;
use crate::oauth::{SignIn, Vault, M365};
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
    /// The sign-in itself failed (refused, timed out, AADSTS error…).
    #[error("{0}")]
    Failed(String),
}

impl Postdesk {
    /// The Microsoft 365 settings a delegated sign-in for `client` (none: global) uses.
    pub fn sign_in_settings(&self, client: Option<&str>) -> Result<M365, Error> {
        let config = self.load()?;
        let prefix = match client {
            Some(id) if !config.clients.contains_key(id) => return Err(Error::Invalid(vec![Problem::new(format!("client.{id}"), Severity::Error, "no such client")])),
            Some(id) => format!("client.{id}"),
            None => "global".into(),
        };
        let m = M365::from_config(&config, &prefix).map_err(|e| {
            let (key, msg) = e.split_once(": ").unwrap_or(("auth", &e));
            Error::Invalid(vec![Problem::new(key.to_string(), Severity::Error, format!("{msg} (sign-in needs auth m365-smtp or m365-graph)"))])
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
        Vault::clear(self, key).map_err(|e| Error::Invalid(vec![Problem::new(key.to_string(), Severity::Error, e)]))?;
        Ok(())
    }

    /// The system-browser flow: a loopback listener on a random port, the authorize URL
    /// handed to `open` (the default browser), one redirect request answered and checked
    /// (state, code), then the code redeemed and the refresh token stored. Gives the account.
    pub async fn sign_in_with_browser(&self, m: &M365, open: impl FnOnce(&str) -> Result<(), String>, timeout: Duration) -> Result<String, LoginError> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.map_err(|e| LoginError::Failed(format!("cannot listen on loopback for the sign-in redirect: {e}")))?;
        let port = listener.local_addr().map_err(|e| LoginError::Failed(e.to_string()))?.port();
        let redirect_uri = format!("http://localhost:{port}{CALLBACK_PATH}");
        let sign_in = SignIn::begin(m, &redirect_uri, None);
        open(&sign_in.url).map_err(LoginError::Failed)?;
        let url = match tokio::time::timeout(timeout, one_redirect(listener, port, &sign_in)).await {
            Err(_) => return Err(LoginError::Failed(format!("no sign-in came back within {} s: sign in again", timeout.as_secs()))),
            Ok(r) => r.map_err(LoginError::Failed)?,
        };
        sign_in.finish(&url, self).await.map_err(LoginError::Failed)
    }
}

/// Accepts exactly one HTTP request, answers it with a short page, and returns the full
/// redirect URL it carried. The listener is closed when this returns.
async fn one_redirect(listener: TcpListener, port: u16, sign_in: &SignIn) -> Result<String, String> {
    let (mut stream, _) = listener.accept().await.map_err(|e| format!("the sign-in redirect listener failed: {e}"))?;
    drop(listener);
    let mut head = Vec::new();
    let mut buf = [0u8; 2048];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).await.map_err(|e| format!("reading the sign-in redirect: {e}"))?;
        if n == 0 || head.len() + n > MAX_REQUEST {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&head);
    let target = text.lines().next().and_then(|l| l.strip_prefix("GET ")).and_then(|l| l.split(' ').next()).unwrap_or("");
    let url = format!("http://localhost:{port}{target}");
    let outcome = if sign_in.is_redirect(&url) { sign_in.code_from_redirect(&url).map(|_| ()) } else { Err("this is not the sign-in redirect".into()) };
    let (status, message) = match &outcome {
        Ok(()) => ("200 OK", "Signed in. You can close this tab and return to Postdesk.".to_string()),
        Err(e) => ("400 Bad Request", format!("Sign-in failed: {e}")),
    };
    let escaped = message.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    let body = format!("<!doctype html><html><head><meta charset=\"utf-8\"><title>Postdesk sign-in</title></head><body><p>{escaped}</p></body></html>");
    let reply = format!("HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\nCache-Control: no-store\r\n\r\n{body}", body.len());
    let _ = stream.write_all(reply.as_bytes()).await;
    let _ = stream.shutdown().await;
    outcome.map(|()| url)
}

/// Opens `url` in the default browser: the first program of `$BROWSER` (a `%s` in it is
/// replaced by the URL, else the URL is appended), else the desktop's opener (`xdg-open`,
/// `open`, `start`). Does not wait for the browser.
pub fn open_in_browser(url: &str) -> Result<(), String> {
    let (program, args) = browser_command(std::env::var("BROWSER").ok().as_deref(), url);
    let mut child = std::process::Command::new(&program)
        .args(&args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start the browser ({program}): {e}; open this address yourself: {url}"))?;
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
        None if cfg!(windows) => ("cmd".into(), vec!["/c".into(), "start".into(), String::new(), url.into()]),
        None => ("xdg-open".into(), vec![url.into()]),
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
