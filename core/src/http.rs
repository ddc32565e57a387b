//! HTTP for the OAuth token endpoint and Graph: `reqwest` over the shared TLS setup of
//! `crate::tls` (rustls + ring, OS trust store, SSL_CERT_FILE/SSL_CERT_DIR, verified; the same
//! stack as SMTP and the receiver, handed to reqwest with `use_preconfigured_tls`), the proxy
//! of [`crate::proxy::Choice`] (reqwest's CONNECT tunnel with Basic proxy credentials for
//! `https://`, absolute form for `http://`) or none at all (`no_proxy`: the environment is
//! read by `proxy.rs`, never by reqwest), no redirects, everything under one deadline.
//! `http://` is only ever used for loopback hosts (the settings' validation refuses anything
//! else). [`OAuthHttp`] is the `oauth2` crate's HTTP client (its own `reqwest` feature is for
//! reqwest 0.12).
//!
//! [`connect_probe`] stays own code: the diagnosis's `proxy` step needs the proxy's own status
//! line to CONNECT, and reqwest's tunnel (hyper-util's) reports 407 as "proxy authorization
//! required" but 403/502/503/504 as one "unsuccessful" without the code.

use std::time::Duration;

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

/// Sends one request, through `proxy` when given. `body`: content type and bytes. Errors are
/// one line naming the host (and the proxy); never a credential.
pub async fn send(method: &str, url: &str, headers: &[(&str, &str)], body: Option<(&str, Vec<u8>)>, deadline: Duration, proxy: Option<&Choice>) -> Result<Response, Error> {
    let config = |message: String| error(FailureKind::Config, message);
    let method = reqwest::Method::from_bytes(method.as_bytes()).map_err(|e| config(format!("{method}: {e}")))?;
    let mut map = http::HeaderMap::new();
    for (k, v) in headers {
        let name = http::HeaderName::from_bytes(k.as_bytes()).map_err(|e| config(format!("{k}: {e}")))?;
        let mut value = http::HeaderValue::from_str(v).map_err(|_| config(format!("{k}: not a valid header value")))?;
        value.set_sensitive(name == http::header::AUTHORIZATION);
        map.append(name, value);
    }
    let bytes = match body {
        Some((ct, b)) => {
            map.insert(http::header::CONTENT_TYPE, http::HeaderValue::from_str(ct).map_err(|_| config(format!("{ct}: not a content type")))?);
            b
        }
        None => Vec::new(),
    };
    let (status, _, body) = exchange(method, url, map, bytes, deadline, proxy).await?;
    Ok(Response { status, body })
}

/// One request under `deadline`: status, headers and body (at most [`MAX_BODY`]).
async fn exchange(method: reqwest::Method, url: &str, headers: http::HeaderMap, body: Vec<u8>, deadline: Duration, proxy: Option<&Choice>) -> Result<(u16, http::HeaderMap, Vec<u8>), Error> {
    match tokio::time::timeout(deadline, exchange_inner(method, url, headers, body, proxy)).await {
        Ok(r) => r,
        Err(_) => Err(error(FailureKind::Timeout, format!("no answer from {}{} within {} s", host_of(url), through(proxy), deadline.as_secs()))),
    }
}

/// The reqwest client for requests through `proxy` (or straight to the host): tls.rs's rustls
/// settings, no redirects (a token request must not be sent elsewhere), no proxy from the
/// environment (`proxy.rs` already chose).
fn client(proxy: Option<&Choice>) -> Result<reqwest::Client, Error> {
    let tls = crate::tls::https_config().map_err(|e| error(FailureKind::Tls, format!("TLS setup: {e}")))?;
    let mut builder = reqwest::Client::builder()
        .use_preconfigured_tls((*tls).clone())
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("Postdesk/", env!("CARGO_PKG_VERSION")))
        .tcp_nodelay(true)
        .pool_max_idle_per_host(0);
    builder = match proxy {
        None => builder.no_proxy(),
        Some(p) => {
            let url = format!("http://{}", p.url);
            let mut rp = reqwest::Proxy::all(url.as_str()).map_err(|e| error(FailureKind::Config, format!("the proxy {}: {e}", p.url)))?;
            if let Some(user) = &p.user {
                rp = rp.basic_auth(user, p.password.as_ref().map_or("", |s| s.expose()));
            }
            builder.proxy(rp)
        }
    };
    builder.build().map_err(|e| error(FailureKind::Config, format!("HTTP client setup: {e}")))
}

async fn exchange_inner(method: reqwest::Method, url: &str, headers: http::HeaderMap, body: Vec<u8>, proxy: Option<&Choice>) -> Result<(u16, http::HeaderMap, Vec<u8>), Error> {
    let config = |message: String| error(FailureKind::Config, message);
    let parsed = url::Url::parse(url).map_err(|e| config(format!("{url}: {e}")))?;
    let host = parsed.host_str().ok_or_else(|| config(format!("{url}: no host")))?.to_string();
    let tls = match parsed.scheme() {
        "https" => true,
        "http" => false,
        other => return Err(config(format!("{url}: unsupported scheme {other}"))),
    };
    let port = parsed.port_or_known_default().unwrap_or(if tls { 443 } else { 80 });
    let client = client(proxy)?;
    let mut resp = client.request(method, parsed).headers(headers).body(body).send().await.map_err(|e| request_error(&e, &host, port, tls, proxy))?;
    let status = resp.status().as_u16();
    let headers = std::mem::take(resp.headers_mut());
    let mut body = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > MAX_BODY {
                    return Err(error(FailureKind::Protocol, format!("reading the answer of {host}: longer than {} KiB", MAX_BODY / 1024)));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(e) => return Err(error(chain_kind(&e).unwrap_or(FailureKind::Protocol), format!("reading the answer of {host}: {}", innermost(&e)))),
        }
    }
    Ok((status, headers, body))
}

/// The errors in `e`'s source chain, `e` first; an `io::Error` that wraps another error (rustls,
/// hyper-rustls) is followed by that error too (`io::Error::source` skips it).
fn chain<'a>(e: &'a (dyn std::error::Error + 'static)) -> Vec<&'a (dyn std::error::Error + 'static)> {
    let mut out = Vec::new();
    let mut next = Some(e);
    while let Some(cur) = next {
        out.push(cur);
        next = match cur.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()) {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => cur.source(),
        };
        if out.len() > 32 {
            break;
        }
    }
    out
}

/// The most precise text of an error: its innermost cause (reqwest's own texts say only
/// "error sending request").
fn innermost(e: &reqwest::Error) -> String {
    chain(e).last().map(|c| c.to_string()).unwrap_or_else(|| e.to_string())
}

/// The kind an I/O error or a closed connection in the chain says, if any.
fn chain_kind(e: &reqwest::Error) -> Option<FailureKind> {
    for c in chain(e) {
        if let Some(io) = c.downcast_ref::<std::io::Error>() {
            return Some(io_kind(io));
        }
        if let Some(h) = c.downcast_ref::<hyper::Error>() {
            if h.is_incomplete_message() || h.is_canceled() {
                return Some(FailureKind::Closed);
            }
        }
    }
    None
}

/// A request that got no answer, as precise as the diagnosis needs: TLS (rustls's reason, e.g.
/// `invalid peer certificate: UnknownIssuer`), the proxy's CONNECT answer (407; reqwest does not
/// pass other codes on), an unreachable proxy or host (refused, reset, DNS), a connection
/// closed before the answer, a timeout.
fn request_error(e: &reqwest::Error, host: &str, port: u16, tls: bool, proxy: Option<&Choice>) -> Error {
    let via = through(proxy);
    let causes = chain(e);
    if let Some(r) = causes.iter().find_map(|c| c.downcast_ref::<rustls::Error>()) {
        return error(FailureKind::Tls, format!("TLS with {host}{via} failed: {r}"));
    }
    let io = causes.iter().find_map(|c| c.downcast_ref::<std::io::Error>());
    // hyper-util's `ConnectError` ("dns error", "tcp connect error", …; not exported either)
    // marks a failure to reach the host or proxy; any other connect error of reqwest's is
    // the TLS handshake (hyper-rustls hands its io::Error up bare, e.g. "tls handshake eof").
    let tcp_stage = causes.iter().map(|c| c.to_string()).any(|t| t.starts_with("dns error") || (t.starts_with("tcp ") && t.contains(" error")));
    if e.is_connect() && !tcp_stage && !causes.iter().any(|c| c.to_string().starts_with("tunnel error: ")) {
        let why = io.map(|io| io.to_string()).unwrap_or_else(|| innermost(e));
        return error(FailureKind::Tls, format!("TLS with {host}{via} failed: {why}"));
    }
    if let Some(p) = proxy {
        let target = if host.contains(':') && !host.starts_with('[') { format!("[{host}]:{port}") } else { format!("{host}:{port}") };
        // hyper-util's `TunnelError` is not exported: its text is what can be matched.
        if let Some(t) = causes.iter().map(|c| c.to_string()).find(|t| t.starts_with("tunnel error: ")) {
            let who = match &p.user {
                Some(u) => format!(" (credentials of user {} sent)", crate::checks::shown(u)),
                None => " (no credentials sent)".into(),
            };
            return match t.trim_start_matches("tunnel error: ") {
                "proxy authorization required" => error(FailureKind::Auth, format!("the proxy {} answered 407 to CONNECT {target}{who}", p.url)),
                "unsuccessful" => error(FailureKind::Rejected, format!("the proxy {} refused CONNECT {target} (its status code is not passed on; `postdesk test` shows it in the proxy step)", p.url)),
                "unexpected end of file" => error(FailureKind::Closed, format!("the proxy {} closed the connection before answering CONNECT {target}", p.url)),
                _ => match io {
                    Some(io) => error(io_kind(io), format!("cannot connect to the proxy {} (from {}): {io}", p.url, p.source)),
                    None => error(FailureKind::Protocol, format!("the proxy {} does not answer CONNECT like an HTTP proxy: {t}", p.url)),
                },
            };
        }
        if e.is_connect() {
            return match io {
                Some(io) => error(io_kind(io), format!("cannot connect to the proxy {} (from {}): {io}", p.url, p.source)),
                None => error(FailureKind::Refused, format!("cannot connect to the proxy {} (from {}): {}", p.url, p.source, innermost(e))),
            };
        }
    } else if e.is_connect() {
        let bracketed = if host.contains(':') && !host.starts_with('[') { format!("[{host}]") } else { host.to_string() };
        return match io {
            Some(io) => error(io_kind(io), format!("cannot connect to {bracketed}:{port}: {io}")),
            None => error(FailureKind::Refused, format!("cannot connect to {bracketed}:{port}: {}", innermost(e))),
        };
    }
    if e.is_timeout() {
        return error(FailureKind::Timeout, format!("no answer from {host}{via}: {}", innermost(e)));
    }
    let _ = tls;
    error(chain_kind(e).unwrap_or(FailureKind::Protocol), format!("HTTP with {host}{via}: {}", innermost(e)))
}

/// The `oauth2` crate's HTTP client for one token request: [`exchange`] under [`Self::deadline`]
/// through [`Self::proxy`]. Remembers the status and (for an error answer) the body, which
/// `oauth2` does not hand back with a parse error.
pub struct OAuthHttp {
    pub proxy: Option<Choice>,
    pub deadline: Duration,
    last: std::sync::Mutex<Option<(u16, Vec<u8>)>>,
}

impl OAuthHttp {
    pub fn new(proxy: Option<Choice>, deadline: Duration) -> OAuthHttp {
        OAuthHttp { proxy, deadline, last: Default::default() }
    }

    /// The status of the last answer, and its body when it was not 200.
    pub fn last(&self) -> Option<(u16, Vec<u8>)> {
        self.last.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl std::error::Error for Error {}

impl<'c> oauth2::AsyncHttpClient<'c> for OAuthHttp {
    type Error = Error;
    type Future = std::pin::Pin<Box<dyn std::future::Future<Output = Result<oauth2::HttpResponse, Error>> + Send + 'c>>;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let url = parts.uri.to_string();
            let (status, headers, body) = exchange(parts.method, &url, parts.headers, body, self.deadline, self.proxy.as_ref()).await?;
            *self.last.lock().unwrap_or_else(|e| e.into_inner()) = Some((status, if status == 200 { Vec::new() } else { body.clone() }));
            let mut resp = http::Response::new(body);
            *resp.status_mut() = http::StatusCode::from_u16(status).map_err(|e| error(FailureKind::Protocol, format!("{}: {e}", host_of(&url))))?;
            *resp.headers_mut() = headers;
            Ok(resp)
        })
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

#[cfg(test)]
pub(crate) mod tests {
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

    /// A server on loopback that reads one request head and answers `answer`; the port.
    /// (Also `oauth`'s token endpoint in its tests.)
    pub(crate) async fn answers(answer: impl Into<String>) -> u16 {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let answer = answer.into();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut seen = Vec::new();
            let mut buf = [0u8; 1024];
            while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => seen.extend_from_slice(&buf[..n]),
                }
            }
            let _ = stream.write_all(answer.as_bytes()).await;
            let _ = stream.shutdown().await;
        });
        port
    }

    fn proxy_at(port: u16, user: Option<&str>) -> Choice {
        Choice { url: crate::proxy::ProxyUrl { host: "127.0.0.1".into(), port }, user: user.map(String::from), password: None, source: crate::proxy::Source::Settings }
    }

    #[test]
    fn the_tunnels_answers_keep_their_kind() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            // 407: reqwest's tunnel says so; the message names it like the proxy step does.
            let port = answers("HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n").await;
            let e = send("GET", "https://login.entra.test/x", &[], None, Duration::from_secs(5), Some(&proxy_at(port, None))).await.err().unwrap();
            assert_eq!(e.kind, FailureKind::Auth, "{e}");
            assert!(e.message.contains("answered 407 to CONNECT login.entra.test:443 (no credentials sent)"), "{e}");
            // 403: refused, the code is not passed on by reqwest.
            let port = answers("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n").await;
            let e = send("GET", "https://login.entra.test/x", &[], None, Duration::from_secs(5), Some(&proxy_at(port, Some("alice")))).await.err().unwrap();
            assert_eq!(e.kind, FailureKind::Rejected, "{e}");
            assert!(e.message.contains(&format!("the proxy 127.0.0.1:{port} refused CONNECT login.entra.test:443")), "{e}");
            // No proxy listening.
            let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let port = closed.local_addr().unwrap().port();
            drop(closed);
            let e = send("GET", "https://login.entra.test/x", &[], None, Duration::from_secs(5), Some(&proxy_at(port, None))).await.err().unwrap();
            assert_eq!(e.kind, FailureKind::Refused, "{e}");
            assert!(e.message.starts_with(&format!("cannot connect to the proxy 127.0.0.1:{port} (from proxy.url): ")), "{e}");
            // TLS to something that does not speak it, through a tunnel that opened.
            let port = answers("HTTP/1.1 200 Connection established\r\n\r\nnot TLS at all\r\n").await;
            let e = send("GET", "https://login.entra.test/x", &[], None, Duration::from_secs(5), Some(&proxy_at(port, None))).await.err().unwrap();
            assert_eq!(e.kind, FailureKind::Tls, "{e}");
            assert!(e.message.starts_with(&format!("TLS with login.entra.test through the proxy 127.0.0.1:{port} failed: ")), "{e}");
            // The same straight to a host, and a host that does not resolve (not a TLS failure).
            let plain = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let port = plain.local_addr().unwrap().port();
            tokio::spawn(async move {
                use tokio::io::AsyncWriteExt;
                let (mut stream, _) = plain.accept().await.unwrap();
                let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n").await;
                let _ = stream.shutdown().await;
            });
            let e = send("GET", &format!("https://127.0.0.1:{port}/"), &[], None, Duration::from_secs(5), None).await.err().unwrap();
            assert_eq!(e.kind, FailureKind::Tls, "{e}");
            assert!(e.message.starts_with("TLS with 127.0.0.1 failed: "), "{e}");
            let e = send("GET", "https://no-such-host.invalid/", &[], None, Duration::from_secs(10), None).await.err().unwrap();
            assert!(e.kind != FailureKind::Tls && e.message.starts_with("cannot connect to no-such-host.invalid:443: "), "{e}");
        });
    }

    #[test]
    fn an_answer_is_read_whole_and_a_huge_one_refused() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let port = answers("HTTP/1.1 202 Accepted\r\nContent-Length: 5\r\n\r\nhello").await;
            let r = send("POST", &format!("http://127.0.0.1:{port}/"), &[("authorization", "Bearer x")], Some(("text/plain", b"body".to_vec())), Duration::from_secs(5), None).await.unwrap();
            assert_eq!((r.status, r.text().as_str()), (202, "hello"));
            let huge = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{}", MAX_BODY + 1, "x".repeat(MAX_BODY + 1));
            let port = answers(huge).await;
            let e = send("GET", &format!("http://127.0.0.1:{port}/"), &[], None, Duration::from_secs(5), None).await.err().unwrap();
            assert_eq!(e.kind, FailureKind::Protocol, "{e}");
        });
    }
}
