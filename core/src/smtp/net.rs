//! The network steps before any protocol: `dns` (every address of the host) and `connect`
//! (all addresses under one deadline), and the TCP quick-ACK switch. Shared by SMTP and the
//! receiver's login.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio::time::timeout;

use super::Recorder;
use crate::diagnosis::{Failure, FailureKind, Stage};

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

/// The `dns` step: every address of `host`, under the timeout.
pub(crate) async fn resolve(rec: &mut Recorder<'_>, host: &str, port: u16, t: Duration) -> Result<Vec<SocketAddr>, Failure> {
    let secs = t.as_secs_f32();
    rec.step(Stage::Dns, async {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let found = timeout(t, tokio::net::lookup_host((host, port))).await;
        let addrs: Vec<SocketAddr> = match found {
            Err(_) => return Err(Failure::new(Stage::Dns, FailureKind::Timeout, format!("timed out after {secs:.0} s resolving {host}"))),
            Ok(Err(e)) => return Err(Failure::new(Stage::Dns, FailureKind::Dns, format!("{host} does not resolve ({e})"))),
            Ok(Ok(a)) => a.collect(),
        };
        if addrs.is_empty() {
            return Err(Failure::new(Stage::Dns, FailureKind::Dns, format!("{host} has no address")));
        }
        let shown = addrs.iter().map(|a| a.ip().to_string()).collect::<Vec<_>>().join(", ");
        Ok((addrs, shown))
    })
    .await
}

/// The `connect` step: one deadline for all addresses, so a black-holed host costs the
/// timeout once. The last address's error is the one reported.
pub(crate) async fn connect(rec: &mut Recorder<'_>, addrs: &[SocketAddr], t: Duration) -> Result<(TcpStream, SocketAddr), Failure> {
    let secs = t.as_secs_f32();
    rec.step(Stage::Connect, async {
        // checked: a timeout too far out for the clock is "no deadline", not a panic.
        let now = tokio::time::Instant::now();
        let deadline = now.checked_add(t).unwrap_or_else(|| now + Duration::from_secs(86_400 * 365));
        let mut last = Failure::new(Stage::Connect, FailureKind::Io, "");
        for addr in addrs {
            match tokio::time::timeout_at(deadline, TcpStream::connect(addr)).await {
                Ok(Ok(s)) => return Ok(((s, *addr), addr.to_string())),
                Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => last = Failure::new(Stage::Connect, FailureKind::Refused, format!("connection refused by {addr}")),
                Ok(Err(e)) => last = Failure::new(Stage::Connect, Failure::io(Stage::Connect, &e).kind, format!("{addr}: {e}")),
                Err(_) => return Err(Failure::new(Stage::Connect, FailureKind::Timeout, format!("connection to {addr} timed out after {secs:.0} s"))),
            }
        }
        Err(last)
    })
    .await
}
