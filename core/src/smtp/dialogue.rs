//! The SMTP dialogue over a plain or TLS stream: replies (RFC 5321 §4.2, bounded), commands
//! (one write each, wiped afterwards, redacted in the transcript), EHLO capabilities, AUTH
//! (PLAIN, LOGIN, XOAUTH2) and the message as DATA puts it on the wire.

use std::time::Duration;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::time::timeout;
use zeroize::Zeroizing;

use super::net::quick_ack;
use super::{Credentials, Recorder};
use crate::diagnosis::{Failure, FailureKind, Stage};
use crate::tls::Io;

/// A reply: code and text lines.
#[derive(Debug, Clone)]
pub(super) struct Reply {
    pub(super) code: u16,
    pub(super) lines: Vec<String>,
}

impl Reply {
    pub(super) fn raw(&self) -> String {
        self.lines.iter().enumerate().map(|(i, l)| format!("{}{}{l}", self.code, if i + 1 == self.lines.len() { ' ' } else { '-' })).collect::<Vec<_>>().join("\n")
    }
    pub(super) fn positive(&self) -> bool {
        (200..400).contains(&self.code)
    }
}

/// A negative reply at `stage`: a refused login or STARTTLS keeps that kind; anything else is
/// the server refusing.
pub(super) fn refused(stage: Stage, reply: &Reply) -> Failure {
    let kind = match stage {
        Stage::Auth => FailureKind::Auth,
        Stage::Tls => FailureKind::Tls,
        _ => FailureKind::Rejected,
    };
    Failure::new(stage, kind, reply.raw())
}

/// The SMTP dialogue over a plain or TLS stream.
pub(super) struct Session<'r, 'a> {
    pub(super) io: BufReader<Box<dyn Io>>,
    pub(super) rec: &'r mut Recorder<'a>,
    pub(super) step_timeout: Duration,
    /// The TCP socket under any TLS, for per-read socket options.
    pub(super) fd: Option<i32>,
}

const MAX_LINE: usize = 4096;
const MAX_LINES: usize = 200;

impl Session<'_, '_> {
    pub(super) async fn read_reply(&mut self, stage: Stage) -> Result<Reply, Failure> {
        self.read_reply_within(stage, self.step_timeout).await
    }

    pub(super) async fn read_reply_within(&mut self, stage: Stage, limit: Duration) -> Result<Reply, Failure> {
        let secs = limit.as_secs_f32();
        let read = async {
            let mut lines = Vec::new();
            loop {
                let mut buf = Vec::new();
                let n = (&mut self.io).take(MAX_LINE as u64).read_until(b'\n', &mut buf).await.map_err(|e| Failure::io(stage, &e))?;
                if n == 0 {
                    return Err(Failure::new(stage, FailureKind::Closed, "the server closed the connection"));
                }
                let line = String::from_utf8_lossy(&buf).trim_end_matches(['\r', '\n']).to_string();
                self.rec.transcript.push(format!("S: {line}"));
                let bytes = line.as_bytes();
                let valid = bytes.len() >= 3 && bytes[..3].iter().all(u8::is_ascii_digit) && (bytes.len() == 3 || bytes[3] == b' ' || bytes[3] == b'-');
                if !valid {
                    return Err(Failure::new(stage, FailureKind::Protocol, format!("not an SMTP reply: {}", truncate(&line, 120))));
                }
                let code: u16 = line[..3].parse().expect("three digits");
                lines.push(line.get(4..).unwrap_or("").to_string());
                if bytes.len() == 3 || bytes[3] == b' ' || lines.len() >= MAX_LINES {
                    return Ok(Reply { code, lines });
                }
            }
        };
        timeout(limit, read).await.unwrap_or_else(|_| Err(Failure::new(stage, FailureKind::Timeout, format!("timed out after {secs:.0} s waiting for the server"))))
    }

    /// Sends a command; `shown` replaces it in the transcript (for AUTH data).
    pub(super) async fn send(&mut self, stage: Stage, line: &str, shown: Option<&str>) -> Result<(), Failure> {
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
    pub(super) async fn write_idle(&mut self, stage: Stage, bytes: &[u8]) -> Result<(), Failure> {
        let idle = self.step_timeout;
        let stalled = || Failure::new(stage, FailureKind::Timeout, format!("timed out sending to the server (nothing accepted for {:.0} s)", idle.as_secs_f32()));
        let io = self.io.get_mut();
        let mut rest = bytes;
        while !rest.is_empty() {
            match timeout(idle, io.write(rest)).await {
                Ok(Ok(0)) => return Err(Failure::io(stage, &std::io::ErrorKind::WriteZero.into())),
                Ok(Ok(n)) => rest = &rest[n..],
                Ok(Err(e)) => return Err(Failure::io(stage, &e)),
                Err(_) => return Err(stalled()),
            }
        }
        match timeout(idle, io.flush()).await {
            Ok(r) => r.map_err(|e| Failure::io(stage, &e)),
            Err(_) => Err(stalled()),
        }
    }

    pub(super) async fn command(&mut self, stage: Stage, line: &str, shown: Option<&str>) -> Result<Reply, Failure> {
        self.send(stage, line, shown).await?;
        self.read_reply(stage).await
    }

    pub(super) async fn expect(&mut self, stage: Stage, line: &str, shown: Option<&str>) -> Result<Reply, Failure> {
        let reply = self.command(stage, line, shown).await?;
        if !reply.positive() {
            return Err(refused(stage, &reply));
        }
        Ok(reply)
    }
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
pub(super) struct Capabilities {
    lines: Vec<String>,
}

impl Capabilities {
    fn from(reply: &Reply) -> Capabilities {
        Capabilities { lines: reply.lines.iter().skip(1).map(|l| l.to_string()).collect() }
    }
    pub(super) fn has(&self, keyword: &str) -> bool {
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

/// EHLO and its capabilities; with `need_utf8`, a server without SMTPUTF8 fails here.
pub(super) async fn ehlo(s: &mut Session<'_, '_>, helo: &str, need_utf8: bool) -> Result<Capabilities, Failure> {
    s.rec.start(Stage::Ehlo);
    match s.expect(Stage::Ehlo, &format!("EHLO {helo}"), None).await {
        Ok(reply) => {
            let caps = Capabilities::from(&reply);
            if need_utf8 && !caps.has("SMTPUTF8") {
                let why = format!("the server does not advertise SMTPUTF8, which UTF-8 headers (RFC 6532) need; it offers: {}", caps.summary());
                return Err(s.rec.fail(Failure::new(Stage::Ehlo, FailureKind::Protocol, why)));
            }
            s.rec.finish(true, caps.summary());
            Ok(caps)
        }
        Err(f) => Err(s.rec.fail(f)),
    }
}

pub(super) async fn authenticate(s: &mut Session<'_, '_>, caps: &Capabilities, creds: &Credentials) -> Result<String, Failure> {
    let offered = caps.auth_mechanisms();
    let stage = Stage::Auth;
    let auth = |error: String| Failure::new(stage, FailureKind::Auth, error);
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
                    return Err(auth(r.raw()));
                }
                let r = s.command(stage, &B64.encode(username), Some("<username redacted>")).await?;
                if r.code != 334 {
                    return Err(auth(r.raw()));
                }
                let line = Zeroizing::new(B64.encode(password.expose()));
                let reply = s.command(stage, &line, Some("<password redacted>")).await?;
                return finish_auth(reply, "LOGIN", username);
            }
            Err(auth(no_auth_message(&offered, "PLAIN or LOGIN")))
        }
        Credentials::OAuth2 { username, token } => {
            if !offered.iter().any(|m| m == "XOAUTH2") {
                return Err(auth(no_auth_message(&offered, "XOAUTH2")));
            }
            let plain = Zeroizing::new(format!("user={username}\x01auth=Bearer {}\x01\x01", token.expose()));
            let line = Zeroizing::new(format!("AUTH XOAUTH2 {}", *Zeroizing::new(B64.encode(plain.as_bytes()))));
            let reply = s.command(stage, &line, Some("AUTH XOAUTH2 <redacted>")).await?;
            if reply.code == 334 {
                // The server explains the refusal in a base64 JSON challenge; an empty line ends it.
                let why = reply.lines.first().and_then(|l| B64.decode(l.trim()).ok()).map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
                let last = s.command(stage, "", None).await?;
                return Err(auth(format!("token rejected: {} {why}", last.raw())));
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
        Err(Failure::new(Stage::Auth, FailureKind::Auth, reply.raw()))
    }
}

/// The message as DATA puts it on the wire: every line end is CRLF, leading dots are doubled,
/// then the terminating `.` line. A lone CR or a lone LF is a line end too and leaves as CRLF
/// (never passed through: a bare CR or LF is how SMTP smuggling hides `\r.\r\n` or
/// `\n.\n`, which a server may read as the end of the data), and the dot-stuffing applies to
/// the lines after that normalization. `\r\r\n` is two line ends.
pub(super) fn dot_stuff(message: &[u8]) -> Vec<u8> {
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

    #[test]
    fn a_negative_reply_is_refused_with_the_stage_kind() {
        let reply = Reply { code: 535, lines: vec!["5.7.8 Authentication failed".into()] };
        assert_eq!(refused(Stage::Auth, &reply).kind, FailureKind::Auth);
        assert_eq!(refused(Stage::Tls, &reply).kind, FailureKind::Tls);
        let f = refused(Stage::RcptTo, &reply);
        assert_eq!((f.kind, f.error.as_str()), (FailureKind::Rejected, "535 5.7.8 Authentication failed"));
    }
}
