//! A small SMTP client (RFC 5321, STARTTLS 3207, AUTH 4954, SMTPUTF8 6531) on tokio and
//! rustls, built for diagnosis: each stage (dns, connect, banner, ehlo, tls, auth, mail_from,
//! rcpt_to, data) is its own step under its own timeout, and the dialogue is recorded with
//! AUTH data redacted. Why not lettre: see ARCHITECTURE.md.
//!
//! Rooms: `recorder` (the steps and transcript of an attempt), `net` (the `dns` and `connect`
//! steps), `dialogue` (replies, commands, EHLO, AUTH, DATA's bytes); TLS is `crate::tls`,
//! shared with the receiver and HTTP. This file is the order of the steps.

mod dialogue;
pub(crate) mod net;
mod recorder;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use tokio::io::BufReader;
use tokio::time::timeout;

use crate::diagnosis::{FailureKind, Stage};
use crate::model::Security;
use crate::secrets::Secret;
use crate::tls::{Io, TlsSetup};
use dialogue::{authenticate, dot_stuff, ehlo, refused, Session};
use net::quick_ack;

pub use crate::diagnosis::Failure;
pub use recorder::Recorder;

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
    /// The name given in EHLO (`helo_name`); `None`: the address literal of this side of
    /// the connection (`[192.0.2.1]`).
    pub helo_name: Option<String>,
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

/// Sends `message` to the recipients of `envelope` through `endpoint`, recording each step.
/// Returns the server's final reply to the message (its queue ID, usually).
pub async fn send(endpoint: &Endpoint, credentials: Option<&Credentials>, envelope: &Envelope, message: &[u8], rec: &mut Recorder<'_>) -> Result<String, Failure> {
    let t = endpoint.timeout;
    let secs = t.as_secs_f32();

    let addrs = net::resolve(rec, &endpoint.host, endpoint.port, t).await?;
    let (tcp, peer) = net::connect(rec, &addrs, t).await?;
    let _ = tcp.set_nodelay(true);
    let local = tcp.local_addr().ok();
    #[cfg(unix)]
    let fd = Some(std::os::fd::AsRawFd::as_raw_fd(&tcp));
    #[cfg(not(unix))]
    let fd = None;
    quick_ack(fd);

    let tls = TlsSetup::new(&endpoint.host, endpoint.tls_verify, endpoint.ca_file.as_deref()).map_err(|e| rec.fail_now(Stage::Tls, FailureKind::Tls, e))?;
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
            // A close before any greeting is a `connect` failure (allowlists do this), a
            // silence is "no greeting".
            let f = match f.kind {
                FailureKind::Closed if s.rec.transcript.is_empty() => Failure::new(Stage::Connect, FailureKind::Closed, format!("{peer} closed the connection right after connect (reset)")),
                FailureKind::Timeout => Failure::new(Stage::Banner, FailureKind::Timeout, format!("no greeting within {secs:.0} s")),
                _ => f,
            };
            return Err(s.rec.fail(f));
        }
    };
    if banner.code != 220 {
        return Err(s.rec.fail(refused(Stage::Banner, &banner)));
    }
    s.rec.finish(true, banner.raw());

    let helo = match (endpoint.helo_name.as_deref(), local) {
        (Some(name), _) => ehlo_name(name),
        (None, Some(SocketAddr::V4(a))) => format!("[{}]", a.ip()),
        (None, Some(SocketAddr::V6(a))) => format!("[IPv6:{}]", a.ip()),
        (None, None) => "[127.0.0.1]".into(),
    };
    let last_ehlo_needs_utf8 = |after_tls: bool| envelope.smtputf8 && (endpoint.security != Security::Starttls || after_tls);
    let mut caps = ehlo(&mut s, &helo, last_ehlo_needs_utf8(false)).await?;

    if endpoint.security == Security::Starttls {
        s.rec.start(Stage::Tls);
        if !caps.has("STARTTLS") {
            return Err(s.rec.fail(Failure::new(Stage::Tls, FailureKind::Tls, "the server does not offer STARTTLS")));
        }
        if let Err(f) = s.expect(Stage::Tls, "STARTTLS", None).await {
            return Err(s.rec.fail(f));
        }
        // Anything the server sent after its 220 would be injected into the TLS session.
        if !s.io.buffer().is_empty() {
            return Err(s.rec.fail(Failure::new(Stage::Tls, FailureKind::Tls, "the server sent data before the TLS handshake (STARTTLS injection)")));
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
    match s.command(Stage::Data, "DATA", None).await {
        Ok(r) if r.code == 354 => {}
        Ok(r) => return Err(s.rec.fail(refused(Stage::Data, &r))),
        Err(f) => return Err(s.rec.fail(f)),
    }
    s.rec.transcript.push(format!("C: <message, {} bytes>", message.len()));
    s.rec.transcript.push("C: .".into());
    let body = dot_stuff(message);
    if let Err(f) = s.write_idle(Stage::Data, &body).await {
        return Err(s.rec.fail(f));
    }
    quick_ack(s.fd);
    let done = match s.read_reply_within(Stage::Data, endpoint.data_timeout).await {
        Ok(r) if r.positive() => r,
        Ok(r) => return Err(s.rec.fail(refused(Stage::Data, &r))),
        Err(f) if f.kind == FailureKind::Timeout => {
            let why = format!(
                "no reply to the end of the message within {:.0} s (data_timeout_secs): the server may still deliver it",
                endpoint.data_timeout.as_secs_f32()
            );
            return Err(s.rec.fail(Failure::new(Stage::Data, FailureKind::Timeout, why)));
        }
        Err(f) => return Err(s.rec.fail(f)),
    };
    s.rec.finish(true, format!("{} bytes", message.len()));
    // Best effort: the message is already accepted.
    let _ = timeout(Duration::from_millis(500), s.command(Stage::Delivered, "QUIT", None)).await;
    Ok(done.raw())
}

/// The EHLO argument for a configured name: a host name as it is, an IP address as an address
/// literal (RFC 5321 §4.1.3: `[192.0.2.1]`, `[IPv6:2001:db8::1]`).
fn ehlo_name(name: &str) -> String {
    match name.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(ip)) => format!("[{ip}]"),
        Ok(std::net::IpAddr::V6(ip)) => format!("[IPv6:{ip}]"),
        Err(_) => name.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    /// Runs `send` against a loopback server that does `serve` with each connection.
    fn against<F, Fut>(serve: F) -> (Failure, Vec<crate::diagnosis::Step>)
    where
        F: FnOnce(tokio::net::TcpStream) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()> + Send,
    {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let port = listener.local_addr().unwrap().port();
            let server = tokio::spawn(async move {
                let (stream, _) = listener.accept().await.unwrap();
                serve(stream).await;
            });
            let endpoint = Endpoint {
                host: "127.0.0.1".into(),
                port,
                security: Security::None,
                tls_verify: true,
                ca_file: None,
                timeout: Duration::from_millis(300),
                data_timeout: Duration::from_millis(300),
                helo_name: None,
            };
            let envelope = Envelope { from: "a@example.test".into(), to: vec!["b@example.test".into()], smtputf8: false };
            let mut sink = |_| {};
            let mut rec = Recorder::new(&mut sink);
            let f = send(&endpoint, None, &envelope, b"Subject: x\r\n\r\nx\r\n", &mut rec).await.unwrap_err();
            server.abort();
            (f, rec.steps)
        })
    }

    #[test]
    fn a_close_before_the_greeting_is_a_closed_connect_failure() {
        let (f, steps) = against(|stream| async move { drop(stream) });
        assert_eq!((f.stage, f.kind), (Stage::Connect, FailureKind::Closed), "{f:?}");
        assert!(f.error.ends_with("closed the connection right after connect (reset)"), "{f:?}");
        assert_eq!(steps.last().map(|s| (s.stage, s.ok)), Some((Stage::Connect, false)));
    }

    #[test]
    fn a_silent_server_is_a_banner_timeout() {
        let (f, _) = against(|stream| async move {
            tokio::time::sleep(Duration::from_secs(5)).await;
            drop(stream);
        });
        assert_eq!((f.stage, f.kind, f.error.as_str()), (Stage::Banner, FailureKind::Timeout, "no greeting within 0 s"));
    }

    #[test]
    fn no_reply_to_the_data_is_a_data_timeout_and_a_refusal_is_rejected() {
        async fn until_data(stream: tokio::net::TcpStream, last: Option<&'static [u8]>) {
            use tokio::io::AsyncBufReadExt;
            let mut io = BufReader::new(stream);
            io.get_mut().write_all(b"220 fake\r\n").await.unwrap();
            let mut line = String::new();
            while io.read_line(&mut line).await.unwrap_or(0) > 0 {
                let reply: &[u8] = match line.trim_end() {
                    l if l.starts_with("EHLO") => b"250 fake\r\n",
                    "DATA" => b"354 go on\r\n",
                    "." => match last {
                        Some(r) => r,
                        None => {
                            tokio::time::sleep(Duration::from_secs(5)).await;
                            return;
                        }
                    },
                    l if l.starts_with("MAIL") || l.starts_with("RCPT") => b"250 ok\r\n",
                    _ => b"",
                };
                io.get_mut().write_all(reply).await.unwrap();
                line.clear();
            }
        }
        let (f, _) = against(|s| until_data(s, None));
        assert_eq!((f.stage, f.kind), (Stage::Data, FailureKind::Timeout), "{f:?}");
        assert!(f.error.contains("the server may still deliver it"), "{f:?}");
        let (f, _) = against(|s| until_data(s, Some(b"554 5.7.1 spam\r\n")));
        assert_eq!((f.stage, f.kind, f.error.as_str()), (Stage::Data, FailureKind::Rejected, "554 5.7.1 spam"));
    }

    #[test]
    fn an_ehlo_name_is_a_host_name_or_an_address_literal() {
        assert_eq!(ehlo_name("mta.example.test"), "mta.example.test");
        assert_eq!(ehlo_name("192.0.2.7"), "[192.0.2.7]");
        assert_eq!(ehlo_name("2001:db8::1"), "[IPv6:2001:db8::1]");
    }
}
