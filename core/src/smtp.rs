//! A small SMTP client (RFC 5321, STARTTLS 3207, AUTH 4954, SMTPUTF8 6531) on tokio and
//! rustls, built for diagnosis: each stage (dns, connect, banner, ehlo, tls, auth, mail_from,
//! rcpt_to, data) is its own step under its own timeout, and the dialogue is recorded with
//! AUTH data redacted. Why not lettre: see ARCHITECTURE.md.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::time::timeout;
use zeroize::Zeroizing;

use crate::diagnosis::{Progress, Stage, Step};
use crate::model::Security;
use crate::secrets::Secret;

/// Where to connect and how.
#[derive(Clone, Debug)]
pub struct Endpoint {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub tls_verify: bool,
    pub ca_file: Option<PathBuf>,
    /// Applies to each network step separately, and to each write as an idle timeout.
    pub timeout: Duration,
    /// How long the reply to the message's final `.` may take (RFC 5321 §4.5.3.2.6: 10
    /// minutes): a content filter may take long, and a mail it accepts must not be reported
    /// as failed (callers would send it again).
    pub data_timeout: Duration,
}

#[derive(Clone, Debug)]
pub enum Credentials {
    Password { username: String, password: Secret },
    /// An OAuth access token for SASL XOAUTH2 (filled by the Microsoft 365 sign-in).
    OAuth2 { username: String, token: Secret },
}

#[derive(Clone, Debug)]
pub struct Envelope {
    pub from: String,
    pub to: Vec<String>,
    /// The mail needs SMTPUTF8 (UTF-8 headers on): refuse servers that lack it.
    pub smtputf8: bool,
}

/// Why a send stopped: the stage and what was seen (a raw reply or the error).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub stage: Stage,
    pub error: String,
}

impl Failure {
    pub(crate) fn new(stage: Stage, error: impl Into<String>) -> Failure {
        Failure { stage, error: error.into() }
    }
}

/// Steps and transcript of one attempt, reported live through `progress`.
pub struct Recorder<'a> {
    pub steps: Vec<Step>,
    pub transcript: Vec<String>,
    progress: &'a mut (dyn FnMut(Progress) + Send),
    current: Option<(Stage, Instant)>,
}

impl<'a> Recorder<'a> {
    pub fn new(progress: &'a mut (dyn FnMut(Progress) + Send)) -> Recorder<'a> {
        Recorder { steps: Vec::new(), transcript: Vec::new(), progress, current: None }
    }

    pub fn start(&mut self, stage: Stage) {
        self.current = Some((stage, Instant::now()));
        (self.progress)(Progress::Started { stage });
    }

    pub fn finish(&mut self, ok: bool, detail: impl Into<String>) {
        let (stage, t0) = self.current.take().expect("a step was started");
        let step = Step { stage, ok, ms: t0.elapsed().as_millis() as u64, detail: detail.into() };
        (self.progress)(Progress::Finished { step: step.clone() });
        self.steps.push(step);
    }

    /// Ends the running step as failed at `stage` (which may differ, e.g. a reset seen while
    /// waiting for the banner is a `connect` failure).
    pub(crate) fn fail(&mut self, failure: Failure) -> Failure {
        if let Some((_, t0)) = self.current.take() {
            let step = Step { stage: failure.stage, ok: false, ms: t0.elapsed().as_millis() as u64, detail: failure.error.clone() };
            (self.progress)(Progress::Finished { step: step.clone() });
            self.steps.push(step);
        }
        failure
    }

    /// Runs one step: starts it, awaits `work`, records success with the detail it returns.
    pub(crate) async fn step<T>(&mut self, stage: Stage, work: impl std::future::Future<Output = Result<(T, String), Failure>>) -> Result<T, Failure> {
        self.start(stage);
        match work.await {
            Ok((value, detail)) => {
                self.finish(true, detail);
                Ok(value)
            }
            Err(f) => Err(self.fail(f)),
        }
    }
}

pub(crate) trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// A reply: code and text lines.
#[derive(Debug, Clone)]
struct Reply {
    code: u16,
    lines: Vec<String>,
}

impl Reply {
    fn raw(&self) -> String {
        self.lines.iter().enumerate().map(|(i, l)| format!("{}{}{l}", self.code, if i + 1 == self.lines.len() { ' ' } else { '-' })).collect::<Vec<_>>().join("\n")
    }
    fn positive(&self) -> bool {
        (200..400).contains(&self.code)
    }
}

/// The SMTP dialogue over a plain or TLS stream.
struct Session<'r, 'a> {
    io: BufReader<Box<dyn Io>>,
    rec: &'r mut Recorder<'a>,
    step_timeout: Duration,
    /// The TCP socket under any TLS, for per-read socket options.
    fd: Option<i32>,
}

/// Acknowledges the server's next segment at once instead of after the delayed-ACK timer:
/// after a TLS 1.3 handshake Postfix sends its session ticket, and (Nagle) holds its reply to
/// our EHLO until that ticket is ACKed, which otherwise costs ~40 ms. Sending puts Linux back
/// into delayed-ACK mode, so this is set after each command is written.
#[cfg(target_os = "linux")]
pub(crate) fn quick_ack(fd: Option<i32>) {
    if let Some(fd) = fd {
        // SAFETY: `fd` is the session's connected TCP socket, alive as long as the session.
        let socket = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
        let _ = socket2::SockRef::from(&socket).set_tcp_quickack(true);
    }
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn quick_ack(_fd: Option<i32>) {}

const MAX_LINE: usize = 4096;
const MAX_LINES: usize = 200;

impl Session<'_, '_> {
    async fn read_reply(&mut self, stage: Stage) -> Result<Reply, Failure> {
        self.read_reply_within(stage, self.step_timeout).await
    }

    async fn read_reply_within(&mut self, stage: Stage, limit: Duration) -> Result<Reply, Failure> {
        let secs = limit.as_secs_f32();
        let read = async {
            let mut lines = Vec::new();
            loop {
                let mut buf = Vec::new();
                let n = (&mut self.io).take(MAX_LINE as u64).read_until(b'\n', &mut buf).await.map_err(|e| io_failure(stage, &e))?;
                if n == 0 {
                    return Err(Failure::new(stage, "the server closed the connection"));
                }
                let line = String::from_utf8_lossy(&buf).trim_end_matches(['\r', '\n']).to_string();
                self.rec.transcript.push(format!("S: {line}"));
                let bytes = line.as_bytes();
                let valid = bytes.len() >= 3 && bytes[..3].iter().all(u8::is_ascii_digit) && (bytes.len() == 3 || bytes[3] == b' ' || bytes[3] == b'-');
                if !valid {
                    return Err(Failure::new(stage, format!("not an SMTP reply: {}", truncate(&line, 120))));
                }
                let code: u16 = line[..3].parse().expect("three digits");
                lines.push(line.get(4..).unwrap_or("").to_string());
                if bytes.len() == 3 || bytes[3] == b' ' || lines.len() >= MAX_LINES {
                    return Ok(Reply { code, lines });
                }
            }
        };
        timeout(limit, read).await.unwrap_or_else(|_| Err(Failure::new(stage, format!("timed out after {secs:.0} s waiting for the server"))))
    }

    /// Sends a command; `shown` replaces it in the transcript (for AUTH data).
    async fn send(&mut self, stage: Stage, line: &str, shown: Option<&str>) -> Result<(), Failure> {
        self.rec.transcript.push(format!("C: {}", shown.unwrap_or(line)));
        // One write per command: one TLS record and one segment, not two. Wiped afterwards:
        // AUTH lines carry credentials.
        let mut bytes = Zeroizing::new(Vec::with_capacity(line.len() + 2));
        bytes.extend_from_slice(line.as_bytes());
        bytes.extend_from_slice(b"\r\n");
        let sent = self.write_idle(stage, &bytes).await;
        // After the write, which puts Linux back into delayed-ACK mode, before the reply.
        quick_ack(self.fd);
        sent
    }

    /// Writes all of `bytes` with an idle timeout: each write must make progress within the
    /// step timeout, however long the whole takes (a large message on a slow link).
    async fn write_idle(&mut self, stage: Stage, bytes: &[u8]) -> Result<(), Failure> {
        let idle = self.step_timeout;
        let stalled = || Failure::new(stage, format!("timed out sending to the server (nothing accepted for {:.0} s)", idle.as_secs_f32()));
        let io = self.io.get_mut();
        let mut rest = bytes;
        while !rest.is_empty() {
            match timeout(idle, io.write(rest)).await {
                Ok(Ok(0)) => return Err(io_failure(stage, &std::io::ErrorKind::WriteZero.into())),
                Ok(Ok(n)) => rest = &rest[n..],
                Ok(Err(e)) => return Err(io_failure(stage, &e)),
                Err(_) => return Err(stalled()),
            }
        }
        match timeout(idle, io.flush()).await {
            Ok(r) => r.map_err(|e| io_failure(stage, &e)),
            Err(_) => Err(stalled()),
        }
    }

    async fn command(&mut self, stage: Stage, line: &str, shown: Option<&str>) -> Result<Reply, Failure> {
        self.send(stage, line, shown).await?;
        self.read_reply(stage).await
    }

    async fn expect(&mut self, stage: Stage, line: &str, shown: Option<&str>) -> Result<Reply, Failure> {
        let reply = self.command(stage, line, shown).await?;
        if !reply.positive() {
            return Err(Failure::new(stage, reply.raw()));
        }
        Ok(reply)
    }
}

pub(crate) fn io_failure(stage: Stage, e: &std::io::Error) -> Failure {
    use std::io::ErrorKind::*;
    let what = match e.kind() {
        ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof => "the server closed the connection (reset)".to_string(),
        _ => e.to_string(),
    };
    Failure::new(stage, what)
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n).collect::<String>())
    }
}

/// Capabilities from an EHLO reply (keywords upper-cased).
#[derive(Debug, Default)]
struct Capabilities {
    lines: Vec<String>,
}

impl Capabilities {
    fn from(reply: &Reply) -> Capabilities {
        Capabilities { lines: reply.lines.iter().skip(1).map(|l| l.to_string()).collect() }
    }
    fn has(&self, keyword: &str) -> bool {
        self.lines.iter().any(|l| l.split_whitespace().next().is_some_and(|k| k.eq_ignore_ascii_case(keyword)))
    }
    fn auth_mechanisms(&self) -> Vec<String> {
        self.lines
            .iter()
            .filter_map(|l| {
                let mut words = l.split_whitespace();
                let k = words.next()?;
                (k.eq_ignore_ascii_case("AUTH") || k.eq_ignore_ascii_case("AUTH=")).then(|| words.map(|w| w.to_ascii_uppercase()).collect::<Vec<_>>())
            })
            .flatten()
            .collect()
    }
    fn summary(&self) -> String {
        self.lines.join(", ")
    }
}

/// Sends `message` to the recipients of `envelope` through `endpoint`, recording each step.
/// Returns the server's final reply to the message (its queue ID, usually).
pub async fn send(endpoint: &Endpoint, credentials: Option<&Credentials>, envelope: &Envelope, message: &[u8], rec: &mut Recorder<'_>) -> Result<String, Failure> {
    let t = endpoint.timeout;
    let secs = t.as_secs_f32();

    let addrs = resolve(rec, &endpoint.host, endpoint.port, t).await?;
    let (tcp, peer) = connect(rec, &addrs, t).await?;
    let _ = tcp.set_nodelay(true);
    let local = tcp.local_addr().ok();
    #[cfg(unix)]
    let fd = Some(std::os::fd::AsRawFd::as_raw_fd(&tcp));
    #[cfg(not(unix))]
    let fd = None;
    quick_ack(fd);

    let tls = TlsSetup::new(endpoint).map_err(|e| rec.fail_now(Stage::Tls, e))?;
    let io: Box<dyn Io> = if endpoint.security == Security::Tls {
        let stream = rec.step(Stage::Tls, tls.handshake(Box::new(tcp), t)).await?;
        quick_ack(fd); // the session ticket that follows the handshake
        stream
    } else {
        Box::new(tcp)
    };
    let mut s = Session { io: BufReader::new(io), rec, step_timeout: t, fd };

    s.rec.start(Stage::Banner);
    let banner = match s.read_reply(Stage::Banner).await {
        Ok(r) => r,
        Err(f) => {
            let f = if f.error.contains("closed the connection") && s.rec.transcript.is_empty() {
                Failure::new(Stage::Connect, format!("{peer} closed the connection right after connect (reset)"))
            } else if f.error.starts_with("timed out") {
                Failure::new(Stage::Banner, format!("no greeting within {secs:.0} s"))
            } else {
                f
            };
            return Err(s.rec.fail(f));
        }
    };
    if banner.code != 220 {
        return Err(s.rec.fail(Failure::new(Stage::Banner, banner.raw())));
    }
    s.rec.finish(true, banner.raw());

    let helo = match local {
        Some(SocketAddr::V4(a)) => format!("[{}]", a.ip()),
        Some(SocketAddr::V6(a)) => format!("[IPv6:{}]", a.ip()),
        None => "[127.0.0.1]".into(),
    };
    let last_ehlo_needs_utf8 = |after_tls: bool| envelope.smtputf8 && (endpoint.security != Security::Starttls || after_tls);
    let mut caps = ehlo(&mut s, &helo, last_ehlo_needs_utf8(false)).await?;

    if endpoint.security == Security::Starttls {
        s.rec.start(Stage::Tls);
        if !caps.has("STARTTLS") {
            return Err(s.rec.fail(Failure::new(Stage::Tls, "the server does not offer STARTTLS")));
        }
        if let Err(f) = s.expect(Stage::Tls, "STARTTLS", None).await {
            return Err(s.rec.fail(f));
        }
        // Anything the server sent after its 220 would be injected into the TLS session.
        if !s.io.buffer().is_empty() {
            return Err(s.rec.fail(Failure::new(Stage::Tls, "the server sent data before the TLS handshake (STARTTLS injection)")));
        }
        let plain = std::mem::replace(&mut s.io, BufReader::new(Box::new(tokio::io::duplex(1).0))).into_inner();
        match tls.handshake(plain, t).await {
            Ok((stream, detail)) => {
                quick_ack(s.fd); // the session ticket that follows the handshake
                s.io = BufReader::new(stream);
                s.rec.finish(true, detail);
            }
            Err(f) => return Err(s.rec.fail(f)),
        }
        caps = ehlo(&mut s, &helo, last_ehlo_needs_utf8(true)).await?;
    }

    if let Some(creds) = credentials {
        s.rec.start(Stage::Auth);
        match authenticate(&mut s, &caps, creds).await {
            Ok(detail) => s.rec.finish(true, detail),
            Err(f) => return Err(s.rec.fail(f)),
        }
    }

    let params = if envelope.smtputf8 { " SMTPUTF8" } else { "" };
    let body_param = if !message.is_ascii() && caps.has("8BITMIME") { " BODY=8BITMIME" } else { "" };
    s.rec.start(Stage::MailFrom);
    match s.expect(Stage::MailFrom, &format!("MAIL FROM:<{}>{params}{body_param}", envelope.from), None).await {
        Ok(r) => s.rec.finish(true, r.raw()),
        Err(f) => return Err(s.rec.fail(f)),
    }
    s.rec.start(Stage::RcptTo);
    let mut accepted = Vec::new();
    for to in &envelope.to {
        match s.expect(Stage::RcptTo, &format!("RCPT TO:<{to}>"), None).await {
            Ok(r) => accepted.push(r.raw()),
            Err(f) => return Err(s.rec.fail(f)),
        }
    }
    s.rec.finish(true, accepted.join("\n"));

    s.rec.start(Stage::Data);
    let reply = match s.command(Stage::Data, "DATA", None).await {
        Ok(r) if r.code == 354 => r,
        Ok(r) => return Err(s.rec.fail(Failure::new(Stage::Data, r.raw()))),
        Err(f) => return Err(s.rec.fail(f)),
    };
    let _ = reply;
    s.rec.transcript.push(format!("C: <message, {} bytes>", message.len()));
    s.rec.transcript.push("C: .".into());
    let body = dot_stuff(message);
    if let Err(f) = s.write_idle(Stage::Data, &body).await {
        return Err(s.rec.fail(f));
    }
    quick_ack(s.fd);
    let done = match s.read_reply_within(Stage::Data, endpoint.data_timeout).await {
        Ok(r) if r.positive() => r,
        Ok(r) => return Err(s.rec.fail(Failure::new(Stage::Data, r.raw()))),
        Err(f) if f.error.starts_with("timed out") => {
            let why = format!(
                "no reply to the end of the message within {:.0} s (data_timeout_secs): the server may still deliver it",
                endpoint.data_timeout.as_secs_f32()
            );
            return Err(s.rec.fail(Failure::new(Stage::Data, why)));
        }
        Err(f) => return Err(s.rec.fail(f)),
    };
    s.rec.finish(true, format!("{} bytes", message.len()));
    // Best effort: the message is already accepted.
    let _ = timeout(Duration::from_millis(500), s.command(Stage::Delivered, "QUIT", None)).await;
    Ok(done.raw())
}

/// The `dns` step: every address of `host`, under the timeout.
pub(crate) async fn resolve(rec: &mut Recorder<'_>, host: &str, port: u16, t: Duration) -> Result<Vec<SocketAddr>, Failure> {
    let secs = t.as_secs_f32();
    rec.step(Stage::Dns, async {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let found = timeout(t, tokio::net::lookup_host((host, port))).await;
        let addrs: Vec<SocketAddr> = match found {
            Err(_) => return Err(Failure::new(Stage::Dns, format!("timed out after {secs:.0} s resolving {host}"))),
            Ok(Err(e)) => return Err(Failure::new(Stage::Dns, format!("{host} does not resolve ({e})"))),
            Ok(Ok(a)) => a.collect(),
        };
        if addrs.is_empty() {
            return Err(Failure::new(Stage::Dns, format!("{host} has no address")));
        }
        let shown = addrs.iter().map(|a| a.ip().to_string()).collect::<Vec<_>>().join(", ");
        Ok((addrs, shown))
    })
    .await
}

/// The `connect` step: one deadline for all addresses, so a black-holed host costs the
/// timeout once.
pub(crate) async fn connect(rec: &mut Recorder<'_>, addrs: &[SocketAddr], t: Duration) -> Result<(TcpStream, SocketAddr), Failure> {
    let secs = t.as_secs_f32();
    rec.step(Stage::Connect, async {
        // checked: a timeout too far out for the clock is "no deadline", not a panic.
        let now = tokio::time::Instant::now();
        let deadline = now.checked_add(t).unwrap_or_else(|| now + Duration::from_secs(86_400 * 365));
        let mut last = String::new();
        for addr in addrs {
            match tokio::time::timeout_at(deadline, TcpStream::connect(addr)).await {
                Ok(Ok(s)) => return Ok(((s, *addr), addr.to_string())),
                Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => last = format!("connection refused by {addr}"),
                Ok(Err(e)) => last = format!("{addr}: {e}"),
                Err(_) => return Err(Failure::new(Stage::Connect, format!("connection to {addr} timed out after {secs:.0} s"))),
            }
        }
        Err(Failure::new(Stage::Connect, last))
    })
    .await
}

impl Recorder<'_> {
    /// A failure before its step was started (e.g. an unreadable CA file).
    pub(crate) fn fail_now(&mut self, stage: Stage, error: String) -> Failure {
        self.start(stage);
        self.fail(Failure::new(stage, error))
    }

    /// Ends the running step as failed at `stage`.
    pub fn fail_at(&mut self, stage: Stage, error: String) -> Failure {
        self.fail(Failure::new(stage, error))
    }

    /// The stage of the step that is running, if any.
    pub fn running(&self) -> Option<Stage> {
        self.current.map(|(s, _)| s)
    }

    /// Ends the running step as failed because the admin cancelled.
    pub fn cancel_running(&mut self) {
        if let Some((stage, _)) = self.current {
            self.fail(Failure::new(stage, "Cancelled by the user"));
        }
    }
}

/// EHLO and its capabilities; with `need_utf8`, a server without SMTPUTF8 fails here.
async fn ehlo(s: &mut Session<'_, '_>, helo: &str, need_utf8: bool) -> Result<Capabilities, Failure> {
    s.rec.start(Stage::Ehlo);
    match s.expect(Stage::Ehlo, &format!("EHLO {helo}"), None).await {
        Ok(reply) => {
            let caps = Capabilities::from(&reply);
            if need_utf8 && !caps.has("SMTPUTF8") {
                let why = format!("the server does not advertise SMTPUTF8, which UTF-8 headers (RFC 6532) need; it offers: {}", caps.summary());
                return Err(s.rec.fail(Failure::new(Stage::Ehlo, why)));
            }
            s.rec.finish(true, caps.summary());
            Ok(caps)
        }
        Err(f) => Err(s.rec.fail(f)),
    }
}

async fn authenticate(s: &mut Session<'_, '_>, caps: &Capabilities, creds: &Credentials) -> Result<String, Failure> {
    let offered = caps.auth_mechanisms();
    let stage = Stage::Auth;
    match creds {
        Credentials::Password { username, password } => {
            if offered.iter().any(|m| m == "PLAIN") {
                let plain = Zeroizing::new(format!("\0{username}\0{}", password.expose()));
                let line = Zeroizing::new(format!("AUTH PLAIN {}", *Zeroizing::new(B64.encode(plain.as_bytes()))));
                let reply = s.command(stage, &line, Some("AUTH PLAIN <redacted>")).await?;
                return finish_auth(reply, "PLAIN", username);
            }
            if offered.iter().any(|m| m == "LOGIN") {
                let r = s.command(stage, "AUTH LOGIN", None).await?;
                if r.code != 334 {
                    return Err(Failure::new(stage, r.raw()));
                }
                let r = s.command(stage, &B64.encode(username), Some("<username redacted>")).await?;
                if r.code != 334 {
                    return Err(Failure::new(stage, r.raw()));
                }
                let line = Zeroizing::new(B64.encode(password.expose()));
                let reply = s.command(stage, &line, Some("<password redacted>")).await?;
                return finish_auth(reply, "LOGIN", username);
            }
            Err(Failure::new(stage, no_auth_message(&offered, "PLAIN or LOGIN")))
        }
        Credentials::OAuth2 { username, token } => {
            if !offered.iter().any(|m| m == "XOAUTH2") {
                return Err(Failure::new(stage, no_auth_message(&offered, "XOAUTH2")));
            }
            let plain = Zeroizing::new(format!("user={username}\x01auth=Bearer {}\x01\x01", token.expose()));
            let line = Zeroizing::new(format!("AUTH XOAUTH2 {}", *Zeroizing::new(B64.encode(plain.as_bytes()))));
            let reply = s.command(stage, &line, Some("AUTH XOAUTH2 <redacted>")).await?;
            if reply.code == 334 {
                // The server explains the refusal in a base64 JSON challenge; an empty line ends it.
                let why = reply.lines.first().and_then(|l| B64.decode(l.trim()).ok()).map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
                let last = s.command(stage, "", None).await?;
                return Err(Failure::new(stage, format!("token rejected: {} {why}", last.raw())));
            }
            finish_auth(reply, "XOAUTH2", username)
        }
    }
}

fn no_auth_message(offered: &[String], wanted: &str) -> String {
    if offered.is_empty() {
        "the server offers no login (no AUTH advertised)".into()
    } else {
        format!("no AUTH {wanted} offered (the server offers {})", offered.join(" "))
    }
}

fn finish_auth(reply: Reply, mechanism: &str, username: &str) -> Result<String, Failure> {
    if reply.code == 235 {
        Ok(format!("{mechanism} as {username}: {}", reply.raw()))
    } else {
        Err(Failure::new(Stage::Auth, reply.raw()))
    }
}

/// The message as DATA puts it on the wire: every line end is CRLF, leading dots are doubled,
/// then the terminating `.` line. A lone CR or a lone LF is a line end too and leaves as CRLF
/// (never passed through: a bare CR or LF is how SMTP smuggling hides `\r.\r\n` or
/// `\n.\n`, which a server may read as the end of the data), and the dot-stuffing applies to
/// the lines after that normalization. `\r\r\n` is two line ends.
fn dot_stuff(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + message.len() / 64 + 8);
    let mut at_line_start = true;
    let mut bytes = message.iter().copied().peekable();
    while let Some(b) = bytes.next() {
        match b {
            b'\r' | b'\n' => {
                if b == b'\r' {
                    bytes.next_if_eq(&b'\n');
                }
                out.extend_from_slice(b"\r\n");
                at_line_start = true;
            }
            _ => {
                if at_line_start && b == b'.' {
                    out.push(b'.');
                }
                out.push(b);
                at_line_start = false;
            }
        }
    }
    if !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}

/// TLS client settings for one server: OS roots plus an optional CA file, or no checks at all
/// when the admin turned verification off for this server.
pub(crate) struct TlsSetup {
    config: Arc<rustls::ClientConfig>,
    name: ServerName<'static>,
    verify: bool,
}

fn native_roots() -> &'static [CertificateDer<'static>] {
    static ROOTS: OnceLock<Vec<CertificateDer<'static>>> = OnceLock::new();
    ROOTS.get_or_init(|| rustls_native_certs::load_native_certs().certs)
}

impl TlsSetup {
    pub(crate) fn new(ep: &Endpoint) -> Result<TlsSetup, String> {
        let host = ep.host.trim_start_matches('[').trim_end_matches(']').to_string();
        let name = ServerName::try_from(host).map_err(|e| format!("{} cannot be checked against a certificate: {e}", ep.host))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone()).with_safe_default_protocol_versions().map_err(|e| e.to_string())?;
        let config = if ep.tls_verify {
            let ca_file = match &ep.ca_file {
                None => Vec::new(),
                Some(path) => {
                    use rustls::pki_types::pem::PemObject;
                    let bytes = crate::files::read_ca_file(path).map_err(|e| format!("the CA file {} {e}", path.display()))?;
                    let certs: Vec<_> = CertificateDer::pem_slice_iter(&bytes)
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(|e| format!("the CA file {} cannot be read: {e}", path.display()))?;
                    if certs.is_empty() {
                        return Err(format!("the CA file {} holds no certificate", path.display()));
                    }
                    certs
                }
            };
            let verifier = Verifier::roots(ca_file, provider).map_err(|e| format!("TLS setup: {e}"))?;
            builder.dangerous().with_custom_certificate_verifier(Arc::new(verifier)).with_no_client_auth()
        } else {
            builder.dangerous().with_custom_certificate_verifier(Arc::new(Verifier::any(provider))).with_no_client_auth()
        };
        Ok(TlsSetup { config: Arc::new(config), name, verify: ep.tls_verify })
    }

    pub(crate) async fn handshake(&self, io: Box<dyn Io>, t: Duration) -> Result<(Box<dyn Io>, String), Failure> {
        let connector = tokio_rustls::TlsConnector::from(self.config.clone());
        let stream = match timeout(t, connector.connect(self.name.clone(), io)).await {
            Err(_) => return Err(Failure::new(Stage::Tls, format!("TLS handshake timed out after {:.0} s", t.as_secs_f32()))),
            Ok(Err(e)) => return Err(Failure::new(Stage::Tls, describe_tls_error(&e, &self.name))),
            Ok(Ok(s)) => s,
        };
        let conn = stream.get_ref().1;
        let mut detail = format!(
            "{:?}, {:?}",
            conn.protocol_version().map(|v| v.as_str().unwrap_or("TLS")).unwrap_or("TLS"),
            conn.negotiated_cipher_suite().map(|c| c.suite()).map(|s| s.as_str().unwrap_or("?")).unwrap_or("?")
        )
        .replace('"', "");
        if let Some(leaf) = conn.peer_certificates().and_then(|c| c.first()) {
            detail.push('\n');
            detail.push_str(&describe_certificate(leaf));
        }
        if !self.verify {
            detail.push_str("\ncertificate NOT verified (verification is off for this server)");
        }
        Ok((Box::new(stream), detail))
    }

}

/// Subject, issuer and validity of a DER certificate, one per line.
fn describe_certificate(der: &CertificateDer<'_>) -> String {
    match x509_parser::parse_x509_certificate(der) {
        Ok((_, cert)) => format!(
            "subject: {}\nissuer: {}\nexpires: {}",
            cert.subject(),
            cert.issuer(),
            cert.validity().not_after.to_datetime().date()
        ),
        Err(_) => "certificate: (not parseable)".into(),
    }
}

fn describe_tls_error(e: &std::io::Error, name: &ServerName<'_>) -> String {
    use rustls::CertificateError as C;
    let host = name.to_str();
    match e.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()) {
        Some(rustls::Error::InvalidCertificate(cert)) => match cert {
            C::Expired | C::ExpiredContext { .. } => "the server's certificate has expired".into(),
            C::NotValidForName | C::NotValidForNameContext { .. } => format!("the server's certificate is not valid for {host}"),
            C::UnknownIssuer => "the server's certificate is from an unknown issuer (not trusted here)".into(),
            other => format!("the server's certificate was refused: {other:?}"),
        },
        Some(other) => format!("TLS handshake failed: {other}"),
        None => format!("TLS handshake failed: {}", io_failure(Stage::Tls, e).error),
    }
}

/// Checks the server's certificate: against the OS trust store plus the server's CA file, or
/// not at all when the admin turned verification off for this one server.
///
/// The OS store (~145 roots, a few ms to load) is read only when needed: a chain that the CA
/// file alone anchors is checked without it; only "unknown issuer" falls back to the OS roots
/// together with the CA file. The decision is the same as with one combined store.
#[derive(Debug)]
struct Verifier {
    provider: Arc<rustls::crypto::CryptoProvider>,
    /// `None`: accept any certificate (verification off).
    trust: Option<Roots>,
}

#[derive(Debug)]
struct Roots {
    ca_file: Vec<CertificateDer<'static>>,
    ca_only: Option<Arc<rustls::client::WebPkiServerVerifier>>,
    with_os: OnceLock<Result<Arc<rustls::client::WebPkiServerVerifier>, String>>,
}

impl Verifier {
    fn any(provider: Arc<rustls::crypto::CryptoProvider>) -> Verifier {
        Verifier { provider, trust: None }
    }

    fn roots(ca_file: Vec<CertificateDer<'static>>, provider: Arc<rustls::crypto::CryptoProvider>) -> Result<Verifier, String> {
        let ca_only = if ca_file.is_empty() { None } else { Some(webpki(&ca_file, false, &provider)?) };
        Ok(Verifier { provider, trust: Some(Roots { ca_file, ca_only, with_os: OnceLock::new() }) })
    }
}

fn webpki(extra: &[CertificateDer<'static>], os: bool, provider: &Arc<rustls::crypto::CryptoProvider>) -> Result<Arc<rustls::client::WebPkiServerVerifier>, String> {
    let mut roots = rustls::RootCertStore::empty();
    if os {
        roots.add_parsable_certificates(native_roots().iter().cloned());
    }
    roots.add_parsable_certificates(extra.iter().cloned());
    rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone()).build().map_err(|e| e.to_string())
}

impl rustls::client::danger::ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        let Some(roots) = &self.trust else {
            return Ok(rustls::client::danger::ServerCertVerified::assertion());
        };
        if let Some(ca_only) = &roots.ca_only {
            match ca_only.verify_server_cert(end_entity, intermediates, server_name, ocsp, now) {
                Err(rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer)) => {}
                decided => return decided,
            }
        }
        let with_os = roots.with_os.get_or_init(|| webpki(&roots.ca_file, true, &self.provider));
        let with_os = with_os.as_ref().map_err(|e| rustls::Error::General(format!("no trusted roots: {e}")))?;
        with_os.verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_stuffing_and_crlf() {
        assert_eq!(dot_stuff(b"a\n.b\r\n..c"), b"a\r\n..b\r\n...c\r\n.\r\n");
        assert_eq!(dot_stuff(b".\r\n"), b"..\r\n.\r\n");
    }

    #[test]
    fn bare_cr_and_lf_leave_as_crlf_and_are_dot_stuffed() {
        // The SMTP smuggling patterns: no bare CR or LF reaches the wire, and the dot after
        // them is doubled like any line's.
        assert_eq!(dot_stuff(b"a\r.\r\nb"), b"a\r\n..\r\nb\r\n.\r\n");
        assert_eq!(dot_stuff(b"a\n.\nb"), b"a\r\n..\r\nb\r\n.\r\n");
        assert_eq!(dot_stuff(b"a\rb\r"), b"a\r\nb\r\n.\r\n");
        assert_eq!(dot_stuff(b"a\r\r\nb"), b"a\r\n\r\nb\r\n.\r\n");
        assert_eq!(dot_stuff(b""), b"\r\n.\r\n");
        let wire = dot_stuff(b"x\r.\r\n\n.\n\r\r.\r");
        let bare_cr = wire.windows(2).any(|w| w[0] == b'\r' && w[1] != b'\n');
        let bare_lf = wire.windows(2).any(|w| w[1] == b'\n' && w[0] != b'\r') || wire.first() == Some(&b'\n');
        assert!(!bare_cr && !bare_lf, "{:?}", String::from_utf8_lossy(&wire));
    }

    #[test]
    fn capabilities_parse_auth_and_keywords() {
        let reply = Reply { code: 250, lines: vec!["mail.example".into(), "PIPELINING".into(), "AUTH PLAIN login".into(), "SMTPUTF8".into()] };
        let caps = Capabilities::from(&reply);
        assert!(caps.has("smtputf8") && !caps.has("STARTTLS"));
        assert_eq!(caps.auth_mechanisms(), ["PLAIN", "LOGIN"]);
    }
}
