//! Receive-before-send: logging in to a mailbox (IMAP or POP3) for real, as a diagnosis with
//! the stages `dns`, `connect`, `banner`, `tls` and `auth` — for `postdesk receiver-check`,
//! the window's Validate button, and before every send when `receiver.before_send` is on.
//!
//! A protocol client: it reads the settings and the keychain it is given, and imports no
//! operation (`mail` calls it before a send). DNS and connect are the SMTP client's steps, TLS
//! the shared `crate::tls` (same certificate verifier: the CA file first, then the OS roots).
//! IMAP is spoken by `async-imap`; POP3 by the few lines below (greeting, CAPA, STLS,
//! USER/PASS, QUIT). Why: see ARCHITECTURE.md.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader, ReadBuf};
use tokio::time::timeout;

use crate::diagnosis::{Failure, FailureKind, Progress, Report, ServerSummary, Stage};
use crate::hints::receiver_hint_for;
use crate::model::{Config, ReceiverProtocol};
use crate::oauth::Vault;
use crate::secrets::Secret;
use crate::smtp::{net, Recorder};
use crate::tls::{Io, TlsSetup};

/// Everything needed to log in to the receiver mailbox.
#[derive(Clone, Debug)]
pub struct Login {
    pub protocol: ReceiverProtocol,
    pub host: String,
    pub port: u16,
    pub username: String,
    pub password: Secret,
    pub ca_file: Option<PathBuf>,
    /// Applies to each network step separately.
    pub timeout: Duration,
}

impl Login {
    pub fn summary(&self) -> ServerSummary {
        ServerSummary {
            host: self.host.clone(),
            port: self.port,
            security: self.protocol.as_str().into(),
            auth: "password".into(),
            source: "receiver".into(),
        }
    }
}

/// The receiver's login as configured; `Ok(None)` when the receiver is off. `Err`, a `config`
/// failure, names what is missing or invalid, or says the keychain is unavailable.
pub fn login_from(config: &Config, secrets: &dyn Vault) -> Result<Option<Login>, Failure> {
    let r = &config.receiver;
    if r.enabled != Some(true) {
        return Ok(None);
    }
    let config_error = |e: &str| Failure::new(Stage::Config, FailureKind::Config, e);
    let today = time::OffsetDateTime::now_utc().date();
    let problems: Vec<String> = crate::validate::validate(config, &crate::validate::Context { today, secrets_set: None })
        .into_iter()
        .filter(|p| p.is_blocking() && p.key.starts_with("receiver."))
        .map(|p| p.to_string())
        .collect();
    if !problems.is_empty() {
        return Err(config_error(&problems.join("; ")));
    }
    if let Some(ca) = r.ca_file.as_deref() {
        crate::files::check_ca_file(std::path::Path::new(ca)).map_err(|e| config_error(&format!("receiver.ca_file: {ca} {e}")))?;
    }
    let password = secrets
        .get("receiver.password")
        .map_err(|e| Failure::new(Stage::Config, FailureKind::KeychainUnavailable, format!("the OS keychain is not available: {e}")))?;
    let password = password.ok_or_else(|| config_error("receiver.password: no password is saved for the mailbox (enter it under Security, “Receiver (log in before sending)”, or `postdesk secret set receiver.password`)"))?;
    let protocol = r.protocol.unwrap_or_default();
    let timeout_secs = crate::keys::Key::parse("global.timeout_secs").expect("key").effective(config).and_then(|v| v.parse().ok()).unwrap_or(10);
    Ok(Some(Login {
        protocol,
        host: r.host.clone().ok_or_else(|| config_error("receiver.host: required when the receiver is used"))?,
        port: r.port.unwrap_or(protocol.default_port()),
        username: r.username.clone().ok_or_else(|| config_error("receiver.username: required when the receiver is used"))?,
        password,
        ca_file: r.ca_file.as_ref().map(PathBuf::from),
        timeout: Duration::from_secs(timeout_secs),
    }))
}

/// `receiver-check` and Validate: log in, report every step. `cancel` completing stops it.
pub async fn check(
    config: &Config,
    secrets: &dyn Vault,
    progress: &mut (dyn FnMut(Progress) + Send),
    cancel: impl Future<Output = ()>,
) -> Report {
    let mut rec = Recorder::new(progress);
    rec.start(Stage::Config);
    let login = match login_from(config, secrets) {
        Ok(Some(login)) => login,
        Ok(None) => return report(&mut rec, None, Err(Failure::new(Stage::Config, FailureKind::Config, "the receiver is off (receiver.enabled is false)"))),
        Err(f) => return report(&mut rec, None, Err(f)),
    };
    rec.finish(true, format!("{} {}:{} as {}", login.protocol.as_str(), login.host, login.port, login.username));
    let outcome = tokio::select! {
        r = log_in(&login, &mut rec) => r,
        _ = cancel => Err(Failure::cancelled(rec.running().unwrap_or(Stage::Config))),
    };
    if outcome.as_ref().is_err_and(|f| f.kind == FailureKind::Cancelled) {
        rec.cancel_running();
    }
    report(&mut rec, Some(login.summary()), outcome.map(|_| ()))
}

fn report(rec: &mut Recorder<'_>, server: Option<ServerSummary>, outcome: Result<(), Failure>) -> Report {
    let outcome = match outcome {
        // A failure from before the network steps ends the running config step.
        Err(f) if rec.running() == Some(Stage::Config) => Err(rec.fail(f)),
        other => other,
    };
    let steps = std::mem::take(&mut rec.steps);
    let transcript = std::mem::take(&mut rec.transcript);
    Report::of(server, steps, transcript, outcome, receiver_hint_for)
}

/// Logs in and out again, recording `dns`, `connect`, (`tls`,) `banner`, (`tls`,) `auth`.
/// Returns what the server said on success.
pub async fn log_in(login: &Login, rec: &mut Recorder<'_>) -> Result<String, Failure> {
    let t = login.timeout;
    let addrs = net::resolve(rec, &login.host, login.port, t).await?;
    let (tcp, peer) = net::connect(rec, &addrs, t).await?;
    let _ = tcp.set_nodelay(true);
    let tls = TlsSetup::new(&login.host, true, login.ca_file.as_deref()).map_err(|e| rec.fail_now(Stage::Tls, FailureKind::Tls, e))?;
    let implicit = matches!(login.protocol, ReceiverProtocol::Imaps | ReceiverProtocol::Pop3s);
    let io: Box<dyn Io> = if implicit { rec.step(Stage::Tls, tls.handshake(Box::new(tcp), t)).await? } else { Box::new(tcp) };
    if login.protocol.is_imap() {
        imap(login, io, &tls, &peer.to_string(), rec).await
    } else {
        pop3(login, io, &tls, &peer.to_string(), rec).await
    }
}

/// An error of the IMAP or POP3 dialogue before the stage it ends is known.
#[derive(Debug)]
struct Error {
    kind: FailureKind,
    text: String,
}

impl Error {
    fn new(kind: FailureKind, text: impl Into<String>) -> Error {
        Error { kind, text: text.into() }
    }

    fn at(self, stage: Stage) -> Failure {
        Failure::new(stage, self.kind, self.text)
    }

    fn io(e: &std::io::Error) -> Error {
        let f = Failure::io(Stage::Auth, e);
        Error::new(f.kind, f.error)
    }
}

/// A reset or close before any greeting is a `connect` failure (allowlists do this), a
/// silence is "no greeting".
fn banner_failure(error: Error, peer: &str, secs: f32) -> Failure {
    match error.kind {
        FailureKind::Closed => Failure::new(Stage::Connect, FailureKind::Closed, format!("{peer} closed the connection right after connect (reset)")),
        FailureKind::Timeout => Failure::new(Stage::Banner, FailureKind::Timeout, format!("no greeting within {secs:.0} s")),
        _ => error.at(Stage::Banner),
    }
}

// ---------------------------------------------------------------------------------------
// IMAP (async-imap)

/// async-imap wants a `Debug` stream.
struct Conn(Box<dyn Io>);

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Conn")
    }
}

impl AsyncRead for Conn {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut *self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for Conn {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut *self.0).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut *self.0).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut *self.0).poll_shutdown(cx)
    }
}

type ImapClient = async_imap::Client<Conn>;

/// Reads the greeting; returns its text and the capabilities it announces (if any).
async fn imap_greeting(client: &mut ImapClient, t: Duration) -> Result<(String, Option<Vec<String>>), Error> {
    use imap_proto::{Response, Status};
    let response = match timeout(t, client.read_response()).await {
        Err(_) => return Err(Error::new(FailureKind::Timeout, "timed out")),
        Ok(Err(e)) => {
            let kind = Failure::io(Stage::Banner, &e).kind;
            let e = e.to_string();
            // A parse failure quotes what the server sent: show that, not the parser's state.
            return Err(match e.split_once("during parsing of ") {
                Some((_, seen)) => Error::new(FailureKind::Protocol, format!("not an IMAP greeting: {}", truncate(seen.trim_matches('"').trim_end_matches("\\r\\n"), 120))),
                None => Error::new(kind, e),
            });
        }
        Ok(Ok(None)) => return Err(Error::new(FailureKind::Closed, "the server closed the connection")),
        Ok(Ok(Some(r))) => r,
    };
    match response.parsed() {
        Response::Data { status, outcome: imap_proto::Outcome { code, information } } => {
            let text = format!("* {} {}", status_word(status), information.as_deref().unwrap_or("")).trim_end().to_string();
            match status {
                Status::Ok | Status::PreAuth => {
                    let caps = match code {
                        Some(imap_proto::ResponseCode::Capabilities(c)) => Some(c.iter().map(capability_name).collect()),
                        _ => None,
                    };
                    Ok((text, caps))
                }
                _ => Err(Error::new(FailureKind::Rejected, format!("the server refused the session: {text}"))),
            }
        }
        other => Err(Error::new(FailureKind::Protocol, format!("not an IMAP greeting: {}", truncate(&format!("{other:?}"), 120)))),
    }
}

fn status_word(status: &imap_proto::Status) -> &'static str {
    use imap_proto::Status;
    match status {
        Status::Ok => "OK",
        Status::No => "NO",
        Status::Bad => "BAD",
        Status::PreAuth => "PREAUTH",
        Status::Bye => "BYE",
    }
}

fn capability_name(c: &imap_proto::Capability<'_>) -> String {
    use imap_proto::Capability;
    match c {
        Capability::Imap4rev1 => "IMAP4rev1".into(),
        Capability::Auth(a) => format!("AUTH={a}"),
        Capability::Atom(a) => a.to_string(),
    }
}

/// CAPABILITY, for servers whose greeting does not list them.
async fn imap_capabilities(client: &mut ImapClient, t: Duration) -> Result<Vec<String>, Error> {
    use async_imap::types::UnsolicitedResponse;
    let (tx, rx) = async_channel::unbounded();
    match timeout(t, client.run_command_and_check_ok("CAPABILITY", Some(tx))).await {
        Err(_) => return Err(Error::new(FailureKind::Timeout, "timed out waiting for the server")),
        Ok(Err(e)) => return Err(Error::new(imap_kind(&e), format!("CAPABILITY refused: {}", imap_error(&e)))),
        Ok(Ok(())) => {}
    }
    let mut caps = Vec::new();
    while let Ok(response) = rx.try_recv() {
        if let UnsolicitedResponse::Other(data) = response {
            if let imap_proto::Response::Capabilities(c) = data.parsed() {
                caps.extend(c.iter().map(capability_name));
            }
        }
    }
    Ok(caps)
}

fn has(caps: &[String], word: &str) -> bool {
    caps.iter().any(|c| c.eq_ignore_ascii_case(word))
}

async fn imap(login: &Login, io: Box<dyn Io>, tls: &TlsSetup, peer: &str, rec: &mut Recorder<'_>) -> Result<String, Failure> {
    let t = login.timeout;
    let secs = t.as_secs_f32();
    let mut client = async_imap::Client::new(Conn(io));
    rec.start(Stage::Banner);
    let (greeting, mut caps) = match imap_greeting(&mut client, t).await {
        Ok(g) => g,
        Err(e) => return Err(rec.fail(banner_failure(e, peer, secs))),
    };
    rec.finish(true, greeting);

    if login.protocol == ReceiverProtocol::ImapStarttls {
        rec.start(Stage::Tls);
        let offered = match caps.take() {
            Some(c) => c,
            None => imap_capabilities(&mut client, t).await.map_err(|e| rec.fail(e.at(Stage::Tls)))?,
        };
        if !has(&offered, "STARTTLS") {
            return Err(rec.fail_at(Stage::Tls, FailureKind::Tls, format!("the server does not offer STARTTLS (it offers {})", offered.join(" "))));
        }
        match timeout(t, client.run_command_and_check_ok("STARTTLS", None)).await {
            Err(_) => return Err(rec.fail_at(Stage::Tls, FailureKind::Timeout, "timed out waiting for the server's answer to STARTTLS".into())),
            Ok(Err(e)) => {
                let kind = match e {
                    async_imap::error::Error::No(_) | async_imap::error::Error::Bad(_) => FailureKind::Tls,
                    _ => imap_kind(&e),
                };
                return Err(rec.fail_at(Stage::Tls, kind, format!("STARTTLS refused: {e}")));
            }
            Ok(Ok(())) => {}
        }
        let plain = client.into_inner().0;
        match tls.handshake(plain, t).await {
            Ok((stream, detail)) => {
                client = async_imap::Client::new(Conn(stream));
                rec.finish(true, detail);
            }
            Err(f) => return Err(rec.fail(f)),
        }
    }

    rec.start(Stage::Auth);
    // A server that refuses passwords in clear says so before we send one.
    let caps = match caps {
        Some(c) => c,
        None => imap_capabilities(&mut client, t).await.map_err(|e| rec.fail(e.at(Stage::Auth)))?,
    };
    if has(&caps, "LOGINDISABLED") {
        return Err(rec.fail_at(Stage::Auth, FailureKind::Auth, "the server refuses LOGIN on this connection (LOGINDISABLED): plaintext login is not allowed without TLS".into()));
    }
    let mut session = match timeout(t, client.login(&login.username, login.password.expose())).await {
        Err(_) => return Err(rec.fail_at(Stage::Auth, FailureKind::Timeout, format!("timed out after {secs:.0} s waiting for the login answer"))),
        Ok(Err((e, _))) => {
            let kind = match e {
                async_imap::error::Error::No(_) | async_imap::error::Error::Bad(_) => FailureKind::Auth,
                _ => imap_kind(&e),
            };
            return Err(rec.fail_at(Stage::Auth, kind, imap_error(&e)));
        }
        Ok(Ok(s)) => s,
    };
    let detail = format!("LOGIN as {}: OK", login.username);
    rec.finish(true, detail.clone());
    // Best effort: the login is what counts.
    let _ = timeout(Duration::from_millis(500), session.logout()).await;
    Ok(detail)
}

/// async-imap's errors as an admin reads them (`NO [AUTHENTICATIONFAILED] Authentication failed.`).
fn imap_error(e: &async_imap::error::Error) -> String {
    use async_imap::error::Error;
    match e {
        Error::No(s) | Error::Bad(s) => {
            let word = if matches!(e, Error::No(_)) { "NO" } else { "BAD" };
            // "code: Some(X), info: Some(\"text\")"
            let info = s.split("info: ").nth(1).unwrap_or(s).trim_start_matches("Some(").trim_end_matches(')').trim_matches('"');
            let code = s.split("code: ").nth(1).and_then(|c| c.split(", info").next()).filter(|c| *c != "None").map(|c| {
                let c = c.trim_start_matches("Some(").trim_end_matches(')');
                format!("[{}] ", c.to_uppercase())
            });
            format!("{word} {}{info}", code.unwrap_or_default())
        }
        Error::ConnectionLost => "the server closed the connection".into(),
        other => other.to_string(),
    }
}

/// The kind of an async-imap error: a refusal (NO, BAD), a closed connection, another I/O
/// error, or a server that does not speak IMAP as expected.
fn imap_kind(e: &async_imap::error::Error) -> FailureKind {
    use async_imap::error::Error;
    match e {
        Error::No(_) | Error::Bad(_) => FailureKind::Rejected,
        Error::ConnectionLost => FailureKind::Closed,
        Error::Io(io) => Failure::io(Stage::Auth, io).kind,
        _ => FailureKind::Protocol,
    }
}

// ---------------------------------------------------------------------------------------
// POP3 (RFC 1939, CAPA/STLS RFC 2449/2595): the login only.

struct Pop<'r, 'a> {
    io: BufReader<Box<dyn Io>>,
    rec: &'r mut Recorder<'a>,
    t: Duration,
}

const MAX_LINE: u64 = 4096;

impl Pop<'_, '_> {
    async fn line(&mut self) -> Result<String, Error> {
        let read = async {
            let mut buf = Vec::new();
            let n = (&mut self.io).take(MAX_LINE).read_until(b'\n', &mut buf).await.map_err(|e| Error::io(&e))?;
            if n == 0 {
                return Err(Error::new(FailureKind::Closed, "the server closed the connection"));
            }
            Ok(String::from_utf8_lossy(&buf).trim_end_matches(['\r', '\n']).to_string())
        };
        let line = timeout(self.t, read)
            .await
            .unwrap_or_else(|_| Err(Error::new(FailureKind::Timeout, format!("timed out after {:.0} s waiting for the server", self.t.as_secs_f32()))))?;
        self.rec.transcript.push(format!("S: {line}"));
        Ok(line)
    }

    /// Sends a command and reads its status line; `shown` replaces it in the transcript.
    async fn command(&mut self, line: &str, shown: Option<&str>) -> Result<String, Error> {
        self.rec.transcript.push(format!("C: {}", shown.unwrap_or(line)));
        let bytes = format!("{line}\r\n");
        let write = async {
            let io = self.io.get_mut();
            io.write_all(bytes.as_bytes()).await?;
            io.flush().await
        };
        match timeout(self.t, write).await {
            Err(_) => return Err(Error::new(FailureKind::Timeout, "timed out sending to the server")),
            Ok(Err(e)) => return Err(Error::io(&e)),
            Ok(Ok(())) => {}
        }
        self.line().await
    }

    /// CAPA's list (empty when the server does not know CAPA).
    async fn capa(&mut self) -> Result<Vec<String>, Error> {
        let first = self.command("CAPA", None).await?;
        if !first.starts_with("+OK") {
            return Ok(Vec::new());
        }
        let mut caps = Vec::new();
        loop {
            let line = self.line().await?;
            if line == "." {
                return Ok(caps);
            }
            caps.push(line);
        }
    }
}

async fn pop3(login: &Login, io: Box<dyn Io>, tls: &TlsSetup, peer: &str, rec: &mut Recorder<'_>) -> Result<String, Failure> {
    let t = login.timeout;
    let secs = t.as_secs_f32();
    let mut p = Pop { io: BufReader::new(io), rec, t };

    p.rec.start(Stage::Banner);
    let greeting = match p.line().await {
        Ok(l) => l,
        Err(e) => {
            let f = banner_failure(e, peer, secs);
            return Err(p.rec.fail(f));
        }
    };
    if greeting.starts_with("-ERR") {
        return Err(p.rec.fail_at(Stage::Banner, FailureKind::Rejected, greeting));
    }
    if !greeting.starts_with("+OK") {
        return Err(p.rec.fail_at(Stage::Banner, FailureKind::Protocol, format!("not a POP3 greeting: {}", truncate(&greeting, 120))));
    }
    p.rec.finish(true, greeting);

    if login.protocol == ReceiverProtocol::Pop3Stls {
        p.rec.start(Stage::Tls);
        let caps = p.capa().await.map_err(|e| p.rec.fail(e.at(Stage::Tls)))?;
        if !has(&caps, "STLS") {
            let offered = if caps.is_empty() { "no CAPA".to_string() } else { caps.join(" ") };
            return Err(p.rec.fail_at(Stage::Tls, FailureKind::Tls, format!("the server does not offer STLS (it offers {offered})")));
        }
        let reply = p.command("STLS", None).await.map_err(|e| p.rec.fail(e.at(Stage::Tls)))?;
        if !reply.starts_with("+OK") {
            return Err(p.rec.fail_at(Stage::Tls, FailureKind::Tls, format!("STLS refused: {reply}")));
        }
        // Anything the server sent after its +OK would be injected into the TLS session.
        if !p.io.buffer().is_empty() {
            return Err(p.rec.fail_at(Stage::Tls, FailureKind::Tls, "the server sent data before the TLS handshake (STLS injection)".into()));
        }
        let plain = std::mem::replace(&mut p.io, BufReader::new(Box::new(tokio::io::duplex(1).0))).into_inner();
        match tls.handshake(plain, t).await {
            Ok((stream, detail)) => {
                p.io = BufReader::new(stream);
                p.rec.finish(true, detail);
            }
            Err(f) => return Err(p.rec.fail(f)),
        }
    }

    p.rec.start(Stage::Auth);
    let user = p.command(&format!("USER {}", login.username), None).await.map_err(|e| p.rec.fail(e.at(Stage::Auth)))?;
    if !user.starts_with("+OK") {
        return Err(p.rec.fail_at(Stage::Auth, FailureKind::Auth, user));
    }
    let pass = p.command(&format!("PASS {}", login.password.expose()), Some("PASS <redacted>")).await.map_err(|e| p.rec.fail(e.at(Stage::Auth)))?;
    if !pass.starts_with("+OK") {
        return Err(p.rec.fail_at(Stage::Auth, FailureKind::Auth, pass));
    }
    let detail = format!("USER/PASS as {}: {pass}", login.username);
    p.rec.finish(true, detail.clone());
    let _ = timeout(Duration::from_millis(500), p.command("QUIT", None)).await;
    Ok(detail)
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imap_errors_read_like_the_server_said_them() {
        let e = async_imap::error::Error::No("code: Some(AuthenticationFailed), info: Some(\"Authentication failed.\")".into());
        assert_eq!(imap_error(&e), "NO [AUTHENTICATIONFAILED] Authentication failed.");
        let e = async_imap::error::Error::No("code: None, info: Some(\"Nope\")".into());
        assert_eq!(imap_error(&e), "NO Nope");
    }

    #[test]
    fn a_close_before_the_greeting_is_a_connect_failure() {
        let closed = banner_failure(Error::new(FailureKind::Closed, "the server closed the connection"), "127.0.0.1:1", 10.0);
        assert_eq!((closed.stage, closed.kind), (Stage::Connect, FailureKind::Closed));
        assert_eq!(closed.error, "127.0.0.1:1 closed the connection right after connect (reset)");
        let silent = banner_failure(Error::new(FailureKind::Timeout, "timed out"), "127.0.0.1:1", 10.0);
        assert_eq!((silent.stage, silent.kind, silent.error.as_str()), (Stage::Banner, FailureKind::Timeout, "no greeting within 10 s"));
        let other = banner_failure(Error::new(FailureKind::Protocol, "not an IMAP greeting: x"), "127.0.0.1:1", 10.0);
        assert_eq!((other.stage, other.kind, other.error.as_str()), (Stage::Banner, FailureKind::Protocol, "not an IMAP greeting: x"));
        // The decision is the kind's, not the words': a refusal that mentions "closed" stays a refusal.
        let refused = banner_failure(Error::new(FailureKind::Rejected, "the server refused the session: * BYE closed for maintenance"), "127.0.0.1:1", 10.0);
        assert_eq!((refused.stage, refused.kind), (Stage::Banner, FailureKind::Rejected));
    }

    #[test]
    fn imap_errors_carry_their_kind() {
        use async_imap::error::Error as E;
        assert_eq!(imap_kind(&E::ConnectionLost), FailureKind::Closed);
        assert_eq!(imap_kind(&E::Io(std::io::ErrorKind::ConnectionReset.into())), FailureKind::Closed);
        assert_eq!(imap_kind(&E::No("x".into())), FailureKind::Rejected);
    }

    #[test]
    fn a_closed_or_silent_pop3_server_carries_its_kind() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let mut sink = |_| {};
            let mut rec = Recorder::new(&mut sink);
            let (ours, theirs) = tokio::io::duplex(64);
            drop(theirs);
            let mut p = Pop { io: BufReader::new(Box::new(ours)), rec: &mut rec, t: Duration::from_millis(50) };
            let e = p.line().await.unwrap_err();
            assert_eq!((e.kind, e.text.as_str()), (FailureKind::Closed, "the server closed the connection"));
            let (ours, _theirs) = tokio::io::duplex(64);
            let mut p = Pop { io: BufReader::new(Box::new(ours)), rec: &mut rec, t: Duration::from_millis(50) };
            let e = p.line().await.unwrap_err();
            assert_eq!(e.kind, FailureKind::Timeout, "{e:?}");
            assert!(e.text.starts_with("timed out"), "{e:?}");
        });
    }

    #[test]
    fn a_cancelled_check_carries_its_kind_and_the_running_stage() {
        struct Password;
        impl crate::oauth::Vault for Password {
            fn get(&self, _: &str) -> Result<Option<crate::secrets::Secret>, crate::error::Error> {
                Ok(Some(crate::secrets::Secret::new("pw")))
            }
            fn set(&self, _: &str, _: &crate::secrets::Secret) -> Result<(), crate::error::Error> {
                Err(crate::error::invalid("keychain", "read-only"))
            }
            fn clear(&self, _: &str) -> Result<(), crate::error::Error> {
                Err(crate::error::invalid("keychain", "read-only"))
            }
        }
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let report = rt.block_on(async {
            // A server that accepts and never greets: the check waits in `banner`.
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let port = listener.local_addr().unwrap().port();
            let _server = tokio::spawn(async move {
                let (_stream, _) = listener.accept().await.unwrap();
                std::future::pending::<()>().await
            });
            let mut config = Config::default();
            config.receiver.enabled = Some(true);
            config.receiver.protocol = Some(ReceiverProtocol::Imap);
            config.receiver.host = Some("127.0.0.1".into());
            config.receiver.port = Some(port);
            config.receiver.username = Some("me".into());
            let mut sink = |_| {};
            check(&config, &Password, &mut sink, tokio::time::sleep(Duration::from_millis(300))).await
        });
        assert_eq!((report.failed_stage, report.failure_kind), (Some(Stage::Banner), Some(FailureKind::Cancelled)), "{report:?}");
        assert_eq!(report.error.as_deref(), Some("Cancelled by the user"));
    }

    #[test]
    fn an_unavailable_keychain_is_its_own_kind() {
        struct Locked;
        impl crate::oauth::Vault for Locked {
            fn get(&self, _: &str) -> Result<Option<crate::secrets::Secret>, crate::error::Error> {
                Err(crate::secrets::SecretError::Unavailable("locked".into()).into())
            }
            fn set(&self, _: &str, _: &crate::secrets::Secret) -> Result<(), crate::error::Error> {
                Err(crate::secrets::SecretError::Unavailable("locked".into()).into())
            }
            fn clear(&self, _: &str) -> Result<(), crate::error::Error> {
                Err(crate::secrets::SecretError::Unavailable("locked".into()).into())
            }
        }
        let mut config = Config::default();
        config.receiver.enabled = Some(true);
        config.receiver.host = Some("imap.example.test".into());
        config.receiver.username = Some("me".into());
        let f = login_from(&config, &Locked).unwrap_err();
        assert_eq!((f.stage, f.kind), (Stage::Config, FailureKind::KeychainUnavailable));
        assert!(f.error.starts_with("the OS keychain is not available: the OS keychain is not available (locked)"), "{}", f.error);
    }

    #[test]
    fn the_receiver_off_is_a_config_failure() {
        /// A keychain that holds nothing (the receiver is off, so it is never asked).
        struct Empty;
        impl crate::oauth::Vault for Empty {
            fn get(&self, _: &str) -> Result<Option<crate::secrets::Secret>, crate::error::Error> {
                Ok(None)
            }
            fn set(&self, _: &str, _: &crate::secrets::Secret) -> Result<(), crate::error::Error> {
                Err(crate::error::invalid("keychain", "read-only"))
            }
            fn clear(&self, _: &str) -> Result<(), crate::error::Error> {
                Err(crate::error::invalid("keychain", "read-only"))
            }
        }
        let none = Empty;
        let mut sink = |_| {};
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let report = rt.block_on(check(&Config::default(), &none, &mut sink, std::future::pending()));
        assert!(!report.ok);
        assert_eq!(report.failed_stage, Some(Stage::Config));
        assert_eq!(report.steps.len(), 1);
        assert_eq!(report.failure_kind, Some(FailureKind::Config));
        assert!(report.error.unwrap().contains("receiver.enabled"));
    }
}
