//! A small HTTP/1.1 client for the OAuth token endpoint and Graph: hyper 1's connection-level
//! client over tokio, TLS through the shared setup of `crate::tls` (rustls + ring, OS trust
//! store, verified; the same stack as SMTP and the receiver), one request per connection,
//! everything under one deadline. `http://` is only ever used for loopback hosts (the
//! settings' validation refuses anything else).
//!
//! Through a proxy ([`crate::proxy::Choice`]): an `https://` request opens an HTTP CONNECT
//! tunnel (Basic `Proxy-Authorization` when a user is known) and runs TLS to the origin inside
//! it, verified against the origin's name end to end; an `http://` request goes to the proxy
//! in absolute form. [`connect_probe`] is the diagnosis's `proxy` step: the proxy's own
//! answer to CONNECT (status line), which a general client library does not hand back.

use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use tokio::net::TcpStream;

use crate::diagnosis::FailureKind;
use crate::proxy::Choice;

pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Response {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Why a request got no answer: the kind (timeout, refused, TLS, …) and one line naming the host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    pub kind: FailureKind,
    pub message: String,
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

fn error(kind: FailureKind, message: String) -> Error {
    Error { kind, message }
}

/// The kind of an I/O error of a connection (refused, closed, other).
fn io_kind(e: &std::io::Error) -> FailureKind {
    crate::diagnosis::Failure::io(crate::diagnosis::Stage::Connect, e).kind
}

/// Largest response body read (token and Graph answers are a few KiB).
const MAX_BODY: usize = 1 << 20;

/// Sends one request, for callers whose errors are text (`oauth`): `send`'s message.
pub async fn request(method: &str, url: &str, headers: &[(&str, &str)], body: Option<(&str, Vec<u8>)>, deadline: Duration, proxy: Option<&Choice>) -> Result<Response, String> {
    send(method, url, headers, body, deadline, proxy).await.map_err(|e| e.message)
}

/// Sends one request, through `proxy` when given. `body`: content type and bytes. Errors are
/// one line naming the host (and the proxy); never a credential.
pub async fn send(method: &str, url: &str, headers: &[(&str, &str)], body: Option<(&str, Vec<u8>)>, deadline: Duration, proxy: Option<&Choice>) -> Result<Response, Error> {
    match tokio::time::timeout(deadline, request_inner(method, url, headers, body, proxy)).await {
        Ok(r) => r,
        Err(_) => Err(error(FailureKind::Timeout, format!("no answer from {}{} within {} s", host_of(url), through(proxy), deadline.as_secs()))),
    }
}

/// ` through the proxy host:port` for messages.
fn through(proxy: Option<&Choice>) -> String {
    proxy.map(|p| format!(" through the proxy {}", p.url)).unwrap_or_default()
}

/// Largest CONNECT answer head read.
const MAX_CONNECT_HEAD: usize = 16 * 1024;

/// The diagnosis's `proxy` step: connects to the proxy and asks it to CONNECT to
/// `host:port`; gives the proxy's status line, or why there was none or it was not 2xx.
pub async fn connect_probe(proxy: &Choice, host: &str, port: u16, deadline: Duration) -> Result<String, Error> {
    match tokio::time::timeout(deadline, tunnel(proxy, host, port)).await {
        Ok(Ok((_, status))) => Ok(status),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(error(FailureKind::Timeout, format!("no answer from the proxy {} within {} s", proxy.url, deadline.as_secs()))),
    }
}

async fn connect_proxy(proxy: &Choice) -> Result<TcpStream, Error> {
    let tcp = TcpStream::connect((proxy.url.host.as_str(), proxy.url.port)).await.map_err(|e| error(io_kind(&e), format!("cannot connect to the proxy {} (from {}): {e}", proxy.url, proxy.source)))?;
    let _ = tcp.set_nodelay(true);
    Ok(tcp)
}

/// An open CONNECT tunnel to `host:port` and the proxy's status line.
async fn tunnel(proxy: &Choice, host: &str, port: u16) -> Result<(TcpStream, String), Error> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = connect_proxy(proxy).await?;
    let target = if host.contains(':') && !host.starts_with('[') { format!("[{host}]:{port}") } else { format!("{host}:{port}") };
    let mut head = zeroize::Zeroizing::new(String::with_capacity(512));
    head.push_str(&format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\nUser-Agent: Postdesk/{}\r\n", env!("CARGO_PKG_VERSION")));
    if let Some(auth) = proxy.basic_auth() {
        head.push_str("Proxy-Authorization: ");
        head.push_str(&auth);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    let closed = |e: std::io::Error| error(io_kind(&e), format!("the proxy {} closed the connection before answering CONNECT {target}: {e}", proxy.url));
    tcp.write_all(head.as_bytes()).await.map_err(closed)?;
    let mut answer = Vec::new();
    let mut buf = [0u8; 1024];
    while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = tcp.read(&mut buf).await.map_err(closed)?;
        if n == 0 {
            return Err(error(FailureKind::Closed, format!("the proxy {} closed the connection before answering CONNECT {target}", proxy.url)));
        }
        answer.extend_from_slice(&buf[..n]);
        if answer.len() > MAX_CONNECT_HEAD {
            return Err(error(FailureKind::Protocol, format!("the proxy {} answered CONNECT {target} with more than 16 KiB of headers", proxy.url)));
        }
    }
    let text = String::from_utf8_lossy(&answer);
    let line: String = crate::checks::shown(text.lines().next().unwrap_or("").trim()).chars().take(200).collect();
    let status: Option<u16> = line.strip_prefix("HTTP/1.").and_then(|r| r.get(2..5)).and_then(|c| c.parse().ok());
    let who = match &proxy.user {
        Some(u) => format!(" (credentials of user {} sent)", crate::checks::shown(u)),
        None => " (no credentials sent)".into(),
    };
    match status {
        Some(200..=299) => Ok((tcp, line)),
        Some(407) => Err(error(FailureKind::Auth, format!("the proxy {} answered 407 to CONNECT {target}{who}: {line}", proxy.url))),
        Some(code @ (403 | 502 | 503 | 504)) => Err(error(FailureKind::Rejected, format!("the proxy {} answered {code} to CONNECT {target}: {line}", proxy.url))),
        Some(code) => Err(error(FailureKind::Rejected, format!("the proxy {} answered {code} to CONNECT {target}: {line}", proxy.url))),
        None => Err(error(FailureKind::Protocol, format!("the proxy {} does not answer CONNECT like an HTTP proxy: {line}", proxy.url))),
    }
}

fn host_of(url: &str) -> String {
    url::Url::parse(url).ok().and_then(|u| u.host_str().map(String::from)).unwrap_or_else(|| url.to_string())
}

async fn request_inner(method: &str, url: &str, headers: &[(&str, &str)], body: Option<(&str, Vec<u8>)>, proxy: Option<&Choice>) -> Result<Response, Error> {
    let config = |message: String| error(FailureKind::Config, message);
    let parsed = url::Url::parse(url).map_err(|e| config(format!("{url}: {e}")))?;
    let host = parsed.host_str().ok_or_else(|| config(format!("{url}: no host")))?.to_string();
    let tls = match parsed.scheme() {
        "https" => true,
        "http" => false,
        other => return Err(config(format!("{url}: unsupported scheme {other}"))),
    };
    let port = parsed.port_or_known_default().unwrap_or(if tls { 443 } else { 80 });
    let bare = host.trim_start_matches('[').trim_end_matches(']').to_string();
    let tcp = match (proxy, tls) {
        (Some(p), true) => tunnel(p, &bare, port).await?.0,
        (Some(p), false) => connect_proxy(p).await?,
        (None, _) => {
            let tcp = TcpStream::connect((bare.as_str(), port)).await.map_err(|e| error(io_kind(&e), format!("cannot connect to {host}:{port}: {e}")))?;
            let _ = tcp.set_nodelay(true);
            tcp
        }
    };
    let mut path = parsed.path().to_string();
    if let Some(q) = parsed.query() {
        path.push('?');
        path.push_str(q);
    }
    // A plain request through a proxy names the whole URL (absolute form).
    let proxy_auth = match (proxy, tls) {
        (Some(p), false) => {
            path = format!("http://{}{path}", match parsed.port() { Some(p) => format!("{host}:{p}"), None => host.clone() });
            p.basic_auth()
        }
        _ => None,
    };
    let authority = match parsed.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.clone(),
    };
    let mut builder = hyper::Request::builder().method(method).uri(path).header("host", authority).header("user-agent", concat!("Postdesk/", env!("CARGO_PKG_VERSION"))).header("connection", "close");
    for (k, v) in headers {
        builder = builder.header(*k, *v);
    }
    if let Some(auth) = &proxy_auth {
        builder = builder.header("proxy-authorization", auth.as_str());
    }
    let bytes = match body {
        Some((ct, b)) => {
            builder = builder.header("content-type", ct);
            b
        }
        None => Vec::new(),
    };
    let req = builder.body(Full::new(Bytes::from(bytes))).map_err(|e| config(e.to_string()))?;
    if tls {
        let name = rustls::pki_types::ServerName::try_from(bare.clone()).map_err(|e| config(format!("{host}: {e}")))?;
        let via = through(proxy);
        let tls_config = crate::tls::https_config().map_err(|e| error(FailureKind::Tls, format!("TLS with {host}{via} failed: {e}")))?;
        let stream = tokio_rustls::TlsConnector::from(tls_config).connect(name, tcp).await.map_err(|e| error(FailureKind::Tls, format!("TLS with {host}{via} failed: {e}")))?;
        exchange(stream, req, &host).await
    } else {
        exchange(tcp, req, &host).await
    }
}

async fn exchange<S>(stream: S, req: hyper::Request<Full<Bytes>>, host: &str) -> Result<Response, Error>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await.map_err(|e| error(FailureKind::Protocol, format!("HTTP with {host}: {e}")))?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let resp = sender.send_request(req).await.map_err(|e| error(hyper_kind(&e), format!("HTTP with {host}: {e}")))?;
    let status = resp.status().as_u16();
    let limited = http_body_util::Limited::new(resp.into_body(), MAX_BODY);
    let body = limited.collect().await.map_err(|e| error(FailureKind::Protocol, format!("reading the answer of {host}: {e}")))?.to_bytes().to_vec();
    Ok(Response { status, body })
}

/// A request that got no answer: the connection closed (or was reset) before one, or another error.
fn hyper_kind(e: &hyper::Error) -> FailureKind {
    let io = std::error::Error::source(e).and_then(|s| s.downcast_ref::<std::io::Error>());
    match io {
        Some(io) => io_kind(io),
        None if e.is_incomplete_message() || e.is_canceled() => FailureKind::Closed,
        None => FailureKind::Protocol,
    }
}

/// `application/x-www-form-urlencoded` body from pairs.
pub fn form(pairs: &[(&str, &str)]) -> Vec<u8> {
    let mut ser = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        ser.append_pair(k, v);
    }
    ser.finish().into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_or_silent_server_carries_its_kind() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let port = closed.local_addr().unwrap().port();
            drop(closed);
            let e = send("GET", &format!("http://127.0.0.1:{port}/"), &[], None, Duration::from_secs(5), None).await.err().unwrap();
            assert_eq!(e.kind, FailureKind::Refused, "{e}");
            assert!(e.message.starts_with(&format!("cannot connect to 127.0.0.1:{port}: ")), "{e}");

            let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let port = silent.local_addr().unwrap().port();
            let _server = tokio::spawn(async move {
                let (_stream, _) = silent.accept().await.unwrap();
                std::future::pending::<()>().await
            });
            let e = send("GET", &format!("http://127.0.0.1:{port}/"), &[], None, Duration::from_millis(200), None).await.err().unwrap();
            assert_eq!((e.kind, e.message.as_str()), (FailureKind::Timeout, "no answer from 127.0.0.1 within 0 s"));

            let closes = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let port = closes.local_addr().unwrap().port();
            let _server = tokio::spawn(async move {
                let (stream, _) = closes.accept().await.unwrap();
                drop(stream);
            });
            let e = send("GET", &format!("http://127.0.0.1:{port}/"), &[], None, Duration::from_secs(5), None).await.err().unwrap();
            assert_eq!(e.kind, FailureKind::Closed, "{e}");
        });
    }
}
