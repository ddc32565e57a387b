//! A fake Microsoft Entra ID (v2 endpoints) and Microsoft Graph `sendMail`, speaking the real
//! protocols on loopback, for tests: no Microsoft service is reachable from here.
//!
//! - `GET /{tenant}/oauth2/v2.0/authorize`: a small sign-in + consent form (with "Cancel" to
//!   refuse consent); `POST` of that form redirects to the redirect URI with `code` + `state`
//!   (or `error=access_denied`).
//! - `POST /{tenant}/oauth2/v2.0/token`: `authorization_code` (PKCE S256 checked, codes
//!   single-use and valid 60 s, redirect URI matched exactly), `refresh_token` (rotating: the
//!   old one stops working), `client_credentials` (secret checked, expired secrets refused).
//!   Errors are Entra's JSON shape `{error, error_description, error_codes, timestamp,
//!   trace_id, correlation_id}` with the real AADSTS codes.
//! - `GET /{tenant}/discovery/v2.0/keys`: the JWKS of the fixed RS256 test key
//!   (`tests/fixtures/fake-entra-rsa2048.der`); access and id tokens are RS256 JWTs.
//! - `POST /introspect` (RFC 7662, `token=…`): what Dovecot's `oauth2` passdb asks. Stateless:
//!   it checks the signature, expiry and an Exchange audience, so tokens from any instance
//!   (all share the key) are accepted by the long-lived one Dovecot talks to.
//! - `POST /v1.0/users/{from}/sendMail`: Graph; 202 (and the request kept for the test),
//!   401 (no/invalid token or wrong audience), 403 (no Mail.Send), 404 (no such mailbox).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::{STANDARD as B64, URL_SAFE_NO_PAD as B64URL};
use base64::Engine;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request, Response, StatusCode};
use ring::signature::RsaKeyPair;
use serde_json::{json, Value};

pub const KEY_ID: &str = "postdesk-fake-1";
/// How long an authorization code can be redeemed.
pub const CODE_LIFETIME: Duration = Duration::from_secs(60);
pub const ACCESS_TOKEN_LIFETIME: u64 = 3600;

/// The Exchange resources whose tokens SMTP AUTH XOAUTH2 (and so the introspection) accepts.
const EXCHANGE_AUDIENCES: &[&str] = &["https://outlook.office.com", "https://outlook.office365.com"];
const GRAPH_AUDIENCE: &str = "https://graph.microsoft.com";

#[derive(Clone, Debug)]
pub struct User {
    pub email: String,
    pub password: String,
    pub name: String,
    /// Conditional Access blocks this user's sign-in (AADSTS53003 at the token endpoint).
    pub blocked_by_conditional_access: bool,
}

#[derive(Clone, Debug)]
pub struct ClientSecret {
    pub value: String,
    pub expired: bool,
}

#[derive(Clone, Debug)]
pub struct App {
    pub client_id: String,
    pub secrets: Vec<ClientSecret>,
    pub redirect_uris: Vec<String>,
    /// Admin consent granted for the application permissions (else AADSTS65001).
    pub consented: bool,
    /// Application permission Mail.Send on Graph (else Graph answers 403).
    pub graph_mail_send: bool,
    /// The mailbox the app's service principal may send as through SMTP (Exchange's
    /// `Add-MailboxPermission`); carried in the fake's app tokens so the introspection can
    /// answer statelessly.
    pub smtp_mailbox: Option<String>,
    /// What the token endpoint answers as `expires_in` for this app's tokens (any JSON: a huge
    /// number, a negative one, a string…); `None`: [`ACCESS_TOKEN_LIFETIME`].
    pub expires_in: Option<Value>,
}

#[derive(Clone, Debug)]
pub struct Tenant {
    pub id: String,
    /// Verified domains, usable instead of the ID in URLs.
    pub domains: Vec<String>,
    pub apps: Vec<App>,
    pub users: Vec<User>,
}

/// What Graph received for a 202.
#[derive(Clone, Debug)]
pub struct SentMail {
    pub from: String,
    pub body: Value,
    pub bearer_subject: String,
}

struct CodeGrant {
    tenant: String,
    client_id: String,
    redirect_uri: String,
    challenge: String,
    scope: String,
    user: String,
    issued: SystemTime,
    redeemed: bool,
}

struct RefreshGrant {
    tenant: String,
    client_id: String,
    scope: String,
    user: String,
    /// Rotated away or revoked.
    used: bool,
    revoked: bool,
}

#[derive(Default)]
struct State {
    tenants: Vec<Tenant>,
    codes: HashMap<String, CodeGrant>,
    refresh: HashMap<String, RefreshGrant>,
    sent: Vec<SentMail>,
    /// Every request line seen, for tests that check what a client asked for.
    requests: Vec<String>,
    counter: u64,
}

impl State {
    fn tenant(&self, name: &str) -> Option<&Tenant> {
        let name = name.to_ascii_lowercase();
        self.tenants.iter().find(|t| t.id.eq_ignore_ascii_case(&name) || t.domains.iter().any(|d| d.eq_ignore_ascii_case(&name)))
    }
    fn next(&mut self, prefix: &str) -> String {
        self.counter += 1;
        let mut random = [0u8; 18];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut random).expect("random");
        format!("{prefix}.{}.{}", self.counter, B64URL.encode(random))
    }
}

struct Shared {
    state: Mutex<State>,
    key: RsaKeyPair,
    base: String,
}

/// A running fake (its own thread and runtime), stopped on drop.
pub struct FakeEntra {
    shared: Arc<Shared>,
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

pub fn key_pair() -> RsaKeyPair {
    let der = include_bytes!("../fixtures/fake-entra-rsa2048.der");
    RsaKeyPair::from_der(der).expect("fixed test key")
}

impl FakeEntra {
    /// Starts on `127.0.0.1:port` (0: any free port), with no tenants.
    pub fn start_on(port: u16) -> FakeEntra {
        let listener = std::net::TcpListener::bind(("127.0.0.1", port)).expect("bind fake Entra");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("addr");
        let shared = Arc::new(Shared { state: Mutex::new(State::default()), key: key_pair(), base: format!("http://{addr}") });
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let s = shared.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
            rt.block_on(serve(s, listener, stopped));
        });
        FakeEntra { shared, addr, stop: Some(stop), thread: Some(thread) }
    }

    pub fn start() -> FakeEntra {
        Self::start_on(0)
    }

    /// Starts on `127.0.0.1` (any free port) serving HTTPS with the PEM certificate chain and
    /// key given, as `https://<host>:PORT` — a name that may resolve only where the test says
    /// (a proxy's hosts file), so a client that reaches it went through that proxy.
    pub fn start_tls(host: &str, cert_pem: &[u8], key_pem: &[u8]) -> FakeEntra {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert_pem).collect::<Result<_, _>>().expect("certificate PEM");
        let key = PrivateKeyDer::from_pem_slice(key_pem).expect("key PEM");
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .expect("certificate and key");
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).expect("bind fake Entra");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("addr");
        let shared = Arc::new(Shared { state: Mutex::new(State::default()), key: key_pair(), base: format!("https://{host}:{}", addr.port()) });
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let s = shared.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
            rt.block_on(serve_tls(s, listener, acceptor, stopped));
        });
        FakeEntra { shared, addr, stop: Some(stop), thread: Some(thread) }
    }

    /// `http://127.0.0.1:PORT`: the authority and the Graph URL at once.
    pub fn url(&self) -> String {
        self.shared.base.clone()
    }

    pub fn add_tenant(&self, tenant: Tenant) {
        self.shared.state.lock().unwrap().tenants.push(tenant);
    }

    /// Changes an app of a tenant (e.g. expire its secret, withdraw consent).
    pub fn edit_app(&self, tenant: &str, client_id: &str, f: impl FnOnce(&mut App)) {
        let mut st = self.shared.state.lock().unwrap();
        let t = st.tenants.iter_mut().find(|t| t.id == tenant).expect("tenant");
        f(t.apps.iter_mut().find(|a| a.client_id == client_id).expect("app"));
    }

    pub fn edit_user(&self, tenant: &str, email: &str, f: impl FnOnce(&mut User)) {
        let mut st = self.shared.state.lock().unwrap();
        let t = st.tenants.iter_mut().find(|t| t.id == tenant).expect("tenant");
        f(t.users.iter_mut().find(|u| u.email == email).expect("user"));
    }

    /// An admin revokes the user's sessions: every refresh token of theirs stops working.
    pub fn revoke_sessions(&self, email: &str) {
        let mut st = self.shared.state.lock().unwrap();
        for g in st.refresh.values_mut().filter(|g| g.user.eq_ignore_ascii_case(email)) {
            g.revoked = true;
        }
    }

    /// Makes an issued authorization code older than its lifetime.
    pub fn age_codes(&self, by: Duration) {
        let mut st = self.shared.state.lock().unwrap();
        for c in st.codes.values_mut() {
            c.issued -= by;
        }
    }

    /// What Graph accepted (202), oldest first.
    pub fn sent(&self) -> Vec<SentMail> {
        self.shared.state.lock().unwrap().sent.clone()
    }

    /// `METHOD /path?query` of every request, oldest first (form bodies are not kept).
    pub fn requests(&self) -> Vec<String> {
        self.shared.state.lock().unwrap().requests.clone()
    }

    /// Signs arbitrary claims with the test key (for tests that need a forged or odd token).
    pub fn sign(&self, claims: &Value) -> String {
        sign_jwt(&self.shared.key, claims)
    }
}

impl Drop for FakeEntra {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A tenant with one app (secret valid, consented, Mail.Send, SMTP mailbox = the user) and
/// one user, as most tests want it.
pub fn standard_tenant(id: &str, domain: &str, client_id: &str, secret: &str, redirect_uri: &str, user: &str, password: &str) -> Tenant {
    Tenant {
        id: id.into(),
        domains: vec![domain.into()],
        apps: vec![App {
            client_id: client_id.into(),
            secrets: vec![ClientSecret { value: secret.into(), expired: false }],
            redirect_uris: vec![redirect_uri.into()],
            consented: true,
            graph_mail_send: true,
            smtp_mailbox: Some(user.into()),
            expires_in: None,
        }],
        users: vec![User { email: user.into(), password: password.into(), name: "Test Sender".into(), blocked_by_conditional_access: false }],
    }
}

async fn serve(shared: Arc<Shared>, listener: std::net::TcpListener, mut stopped: tokio::sync::oneshot::Receiver<()>) {
    let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
    loop {
        let (stream, _) = tokio::select! {
            r = listener.accept() => match r { Ok(x) => x, Err(_) => continue },
            _ = &mut stopped => return,
        };
        let s = shared.clone();
        tokio::spawn(async move {
            let io = hyper_util::rt::TokioIo::new(stream);
            let svc = hyper::service::service_fn(move |req| {
                let s = s.clone();
                async move { Ok::<_, std::convert::Infallible>(handle(&s, req).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, svc).await;
        });
    }
}

async fn serve_tls(shared: Arc<Shared>, listener: std::net::TcpListener, acceptor: tokio_rustls::TlsAcceptor, mut stopped: tokio::sync::oneshot::Receiver<()>) {
    let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
    loop {
        let (stream, _) = tokio::select! {
            r = listener.accept() => match r { Ok(x) => x, Err(_) => continue },
            _ = &mut stopped => return,
        };
        let s = shared.clone();
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let Ok(tls) = acceptor.accept(stream).await else { return };
            let io = hyper_util::rt::TokioIo::new(tls);
            let svc = hyper::service::service_fn(move |req| {
                let s = s.clone();
                async move { Ok::<_, std::convert::Infallible>(handle(&s, req).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, svc).await;
        });
    }
}

type Resp = Response<Full<Bytes>>;

fn respond(status: StatusCode, content_type: &str, body: impl Into<Bytes>) -> Resp {
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .header("cache-control", "no-store")
        .body(Full::new(body.into()))
        .expect("response")
}

fn json_response(status: StatusCode, v: &Value) -> Resp {
    respond(status, "application/json; charset=utf-8", v.to_string())
}

fn redirect(location: &str) -> Resp {
    Response::builder().status(StatusCode::FOUND).header("location", location).body(Full::new(Bytes::new())).expect("redirect")
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

fn form(bytes: &[u8]) -> HashMap<String, String> {
    form_urlencoded::parse(bytes).into_owned().collect()
}

async fn handle(shared: &Shared, req: Request<hyper::body::Incoming>) -> Resp {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let query = form(req.uri().query().unwrap_or("").as_bytes());
    let auth = req.headers().get("authorization").and_then(|v| v.to_str().ok()).map(String::from);
    let content_type = req.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    shared.state.lock().unwrap().requests.push(format!("{method} {}", req.uri()));
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return respond(StatusCode::BAD_REQUEST, "text/plain", "bad body"),
    };
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match (&method, parts.as_slice()) {
        (&Method::GET, [tenant, "oauth2", "v2.0", "authorize"]) => authorize_page(shared, tenant, &query, None),
        (&Method::POST, [tenant, "oauth2", "v2.0", "authorize"]) => authorize_submit(shared, tenant, &form(&body)),
        (&Method::POST, [tenant, "oauth2", "v2.0", "token"]) => token(shared, tenant, &form(&body)),
        (&Method::GET, [tenant, "discovery", "v2.0", "keys"]) => {
            if shared.state.lock().unwrap().tenant(tenant).is_none() {
                return aadsts(StatusCode::BAD_REQUEST, "invalid_tenant", 90002, &format!("Tenant '{tenant}' not found."));
            }
            json_response(StatusCode::OK, &jwks(&shared.key))
        }
        (&Method::POST, ["introspect"]) => introspect(shared, &form(&body)),
        (&Method::POST, ["v1.0", "users", from, "sendMail"]) => send_mail(shared, from, auth.as_deref(), &content_type, &body),
        _ => respond(StatusCode::NOT_FOUND, "text/plain", format!("fake Entra: no route {method} {path}")),
    }
}

// ------------------------------------------------------------------ errors

/// An error in Entra's JSON shape.
fn aadsts(status: StatusCode, error: &str, code: u32, text: &str) -> Resp {
    json_response(status, &aadsts_json(error, code, text))
}

fn aadsts_json(error: &str, code: u32, text: &str) -> Value {
    let ts = time::OffsetDateTime::now_utc();
    let stamp = ts.format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
    let trace = uuid_like();
    let corr = uuid_like();
    json!({
        "error": error,
        "error_description": format!("AADSTS{code}: {text} Trace ID: {trace} Correlation ID: {corr} Timestamp: {stamp}"),
        "error_codes": [code],
        "timestamp": stamp,
        "trace_id": trace,
        "correlation_id": corr,
        "error_uri": format!("https://login.microsoftonline.com/error?code={code}"),
    })
}

fn uuid_like() -> String {
    let mut b = [0u8; 16];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b).expect("random");
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

fn error_page(code: u32, text: &str) -> Resp {
    let body = format!(
        "<!doctype html><html><head><title>Sign in to your account</title></head><body>\
         <h1>Sign in</h1><p id=\"error\">Sorry, but we're having trouble signing you in.</p>\
         <p id=\"code\">AADSTS{code}: {}</p></body></html>",
        html_escape(text)
    );
    respond(StatusCode::BAD_REQUEST, "text/html; charset=utf-8", body)
}

// ------------------------------------------------------------------ authorize

const AUTHORIZE_PARAMS: &[&str] = &["client_id", "response_type", "redirect_uri", "scope", "state", "code_challenge", "code_challenge_method", "response_mode", "prompt", "login_hint"];

/// Checks what Entra checks before showing a form: tenant, client, redirect URI, PKCE.
fn check_authorize(st: &State, tenant: &str, q: &HashMap<String, String>) -> Result<(), Resp> {
    let Some(t) = st.tenant(tenant) else {
        return Err(error_page(90002, &format!("Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.")));
    };
    let client = q.get("client_id").map(String::as_str).unwrap_or("");
    let Some(app) = t.apps.iter().find(|a| a.client_id == client) else {
        return Err(error_page(700016, &format!("Application with identifier '{client}' was not found in the directory '{}'.", t.id)));
    };
    let redirect = q.get("redirect_uri").map(String::as_str).unwrap_or("");
    if !app.redirect_uris.iter().any(|r| redirect_matches(r, redirect)) {
        return Err(error_page(50011, &format!("The redirect URI '{redirect}' specified in the request does not match the redirect URIs configured for the application '{client}'.")));
    }
    if q.get("response_type").map(String::as_str) != Some("code") {
        return Err(error_page(900144, "The request body must contain the following parameter: 'response_type' = 'code'."));
    }
    if q.get("code_challenge_method").map(String::as_str) != Some("S256") || q.get("code_challenge").is_none_or(|c| c.len() < 43) {
        return Err(error_page(9002325, "Proof Key for Code Exchange is required for cross-origin authorization code redemption (code_challenge with S256)."));
    }
    Ok(())
}

/// Exact match, except that a registered `http://localhost/...` (or 127.0.0.1) matches any
/// port, as Entra does for loopback redirects of native apps (RFC 8252 section 7.3).
fn redirect_matches(registered: &str, asked: &str) -> bool {
    if registered == asked {
        return true;
    }
    let strip_port = |u: &str| -> Option<String> {
        let rest = u.strip_prefix("http://")?;
        let (hostport, path) = rest.split_once('/').unwrap_or((rest, ""));
        let host = hostport.split(':').next()?;
        (host == "localhost" || host == "127.0.0.1").then(|| format!("http://{host}/{path}"))
    };
    matches!((strip_port(registered), strip_port(asked)), (Some(a), Some(b)) if a == b)
}

fn authorize_page(shared: &Shared, tenant: &str, q: &HashMap<String, String>, problem: Option<&str>) -> Resp {
    let st = shared.state.lock().unwrap();
    if let Err(page) = check_authorize(&st, tenant, q) {
        return page;
    }
    let hidden: String = AUTHORIZE_PARAMS
        .iter()
        .filter_map(|k| q.get(*k).map(|v| format!("<input type=\"hidden\" name=\"{k}\" value=\"{}\">", html_escape(v))))
        .collect();
    let scopes: String = q.get("scope").map(|s| s.split(' ').map(|x| format!("<li>{}</li>", html_escape(x))).collect()).unwrap_or_default();
    let login_hint = q.get("login_hint").map(|h| html_escape(h)).unwrap_or_default();
    let problem = problem.map(|p| format!("<p id=\"error\" role=\"alert\">{}</p>", html_escape(p))).unwrap_or_default();
    let body = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Sign in to your account</title></head><body>\
         <h1>Sign in</h1>{problem}\
         <form method=\"post\" action=\"/{tenant}/oauth2/v2.0/authorize\">{hidden}\
         <p><label>Email <input id=\"email\" name=\"login\" type=\"email\" value=\"{login_hint}\"></label></p>\
         <p><label>Password <input id=\"password\" name=\"passwd\" type=\"password\"></label></p>\
         <h2>Permissions requested</h2><ul id=\"scopes\">{scopes}</ul>\
         <p><button id=\"accept\" type=\"submit\" name=\"consent\" value=\"accept\">Accept</button>\
         <button id=\"refuse\" type=\"submit\" name=\"consent\" value=\"refuse\">Cancel</button></p>\
         </form></body></html>",
        tenant = html_escape(tenant)
    );
    respond(StatusCode::OK, "text/html; charset=utf-8", body)
}

fn with_query(base: &str, pairs: &[(&str, &str)]) -> String {
    let mut ser = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        ser.append_pair(k, v);
    }
    format!("{base}{}{}", if base.contains('?') { '&' } else { '?' }, ser.finish())
}

fn authorize_submit(shared: &Shared, tenant: &str, f: &HashMap<String, String>) -> Resp {
    let mut st = shared.state.lock().unwrap();
    if let Err(page) = check_authorize(&st, tenant, f) {
        return page;
    }
    let redirect = f["redirect_uri"].clone();
    let state = f.get("state").cloned().unwrap_or_default();
    if f.get("consent").map(String::as_str) == Some("refuse") {
        return redirect_to(&redirect, &[
            ("error", "access_denied"),
            ("error_description", "AADSTS65004: User declined to consent to access the app."),
            ("state", &state),
        ]);
    }
    let t = st.tenant(tenant).expect("checked").clone();
    let login = f.get("login").cloned().unwrap_or_default();
    let user = t.users.iter().find(|u| u.email.eq_ignore_ascii_case(&login) && u.password == f.get("passwd").cloned().unwrap_or_default());
    let Some(user) = user else {
        drop(st);
        return authorize_page(shared, tenant, f, Some("AADSTS50126: Error validating credentials due to invalid username or password."));
    };
    let code = st.next("code");
    st.codes.insert(code.clone(), CodeGrant {
        tenant: t.id.clone(),
        client_id: f["client_id"].clone(),
        redirect_uri: redirect.clone(),
        challenge: f["code_challenge"].clone(),
        scope: f.get("scope").cloned().unwrap_or_default(),
        user: user.email.clone(),
        issued: SystemTime::now(),
        redeemed: false,
    });
    redirect_to(&redirect, &[("code", &code), ("state", &state), ("session_state", &uuid_like())])
}

fn redirect_to(base: &str, pairs: &[(&str, &str)]) -> Resp {
    redirect(&with_query(base, pairs))
}

// ------------------------------------------------------------------ token

fn token(shared: &Shared, tenant: &str, f: &HashMap<String, String>) -> Resp {
    let mut st = shared.state.lock().unwrap();
    let Some(t) = st.tenant(tenant).cloned() else {
        return aadsts(StatusCode::BAD_REQUEST, "invalid_request", 90002, &format!("Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant."));
    };
    let client = f.get("client_id").cloned().unwrap_or_default();
    let Some(app) = t.apps.iter().find(|a| a.client_id == client).cloned() else {
        return aadsts(StatusCode::BAD_REQUEST, "unauthorized_client", 700016, &format!("Application with identifier '{client}' was not found in the directory '{}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.", t.id));
    };
    // A confidential client's secret, when one is sent, is checked for every grant.
    if let Some(secret) = f.get("client_secret") {
        match app.secrets.iter().find(|s| &s.value == secret) {
            None => return aadsts(StatusCode::UNAUTHORIZED, "invalid_client", 7000215, &format!("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client}'.")),
            Some(s) if s.expired => return aadsts(StatusCode::UNAUTHORIZED, "invalid_client", 7000222, &format!("The provided client secret keys for app '{client}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.")),
            Some(_) => {}
        }
    }
    match f.get("grant_type").map(String::as_str) {
        Some("client_credentials") => {
            if !f.contains_key("client_secret") {
                return aadsts(StatusCode::UNAUTHORIZED, "invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
            }
            let scope = f.get("scope").cloned().unwrap_or_default();
            let Some(resource) = scope.strip_suffix("/.default") else {
                return aadsts(StatusCode::BAD_REQUEST, "invalid_scope", 1002012, &format!("The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."));
            };
            if resource != GRAPH_AUDIENCE && !EXCHANGE_AUDIENCES.contains(&resource) {
                return aadsts(StatusCode::BAD_REQUEST, "invalid_resource", 500011, &format!("The resource principal named {resource} was not found in the tenant named {}.", t.id));
            }
            if !app.consented {
                return aadsts(StatusCode::BAD_REQUEST, "invalid_grant", 65001, &format!("The user or administrator has not consented to use the application with ID '{client}'. Send an interactive authorization request for this user and resource."));
            }
            let roles: Vec<&str> = if resource == GRAPH_AUDIENCE {
                if app.graph_mail_send { vec!["Mail.Send"] } else { vec![] }
            } else {
                vec!["SMTP.SendAsApp"]
            };
            let mut claims = base_claims(&shared.base, &t.id, &client, resource);
            claims["roles"] = json!(roles);
            claims["idtyp"] = json!("app");
            if let Some(mb) = &app.smtp_mailbox {
                claims["x_smtp_mailbox"] = json!(mb);
            }
            let access = sign_jwt(&shared.key, &claims);
            let lifetime = app.expires_in.clone().unwrap_or(json!(ACCESS_TOKEN_LIFETIME));
            json_response(StatusCode::OK, &json!({"token_type": "Bearer", "expires_in": lifetime, "ext_expires_in": ACCESS_TOKEN_LIFETIME, "access_token": access}))
        }
        Some("authorization_code") => {
            let code = f.get("code").cloned().unwrap_or_default();
            let Some(grant) = st.codes.get_mut(&code) else {
                return aadsts(StatusCode::BAD_REQUEST, "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid. - The issue here is because there was something wrong with the request to a certain endpoint.");
            };
            if grant.redeemed {
                return aadsts(StatusCode::BAD_REQUEST, "invalid_grant", 54005, "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.");
            }
            grant.redeemed = true; // single use, even when this redemption fails
            if grant.issued.elapsed().unwrap_or_default() > CODE_LIFETIME {
                return aadsts(StatusCode::BAD_REQUEST, "invalid_grant", 70008, "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.");
            }
            if grant.client_id != client || grant.tenant != t.id {
                return aadsts(StatusCode::BAD_REQUEST, "invalid_grant", 70002, "The authorization code was issued to another client.");
            }
            if f.get("redirect_uri") != Some(&grant.redirect_uri) {
                return aadsts(StatusCode::BAD_REQUEST, "invalid_grant", 50011, &format!("The redirect URI '{}' specified in the request does not match the redirect URI used in the authorization request.", f.get("redirect_uri").cloned().unwrap_or_default()));
            }
            let verifier = f.get("code_verifier").cloned().unwrap_or_default();
            if B64URL.encode(ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes())) != grant.challenge {
                return aadsts(StatusCode::BAD_REQUEST, "invalid_grant", 501481, "The Code_Verifier does not match the code_challenge supplied in the authorization request.");
            }
            let (user, scope) = (grant.user.clone(), grant.scope.clone());
            issue_user_tokens(shared, &mut st, &t, &app, &scope, &user)
        }
        Some("refresh_token") => {
            let rt = f.get("refresh_token").cloned().unwrap_or_default();
            let Some(grant) = st.refresh.get_mut(&rt) else {
                return aadsts(StatusCode::BAD_REQUEST, "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid. - The refresh token is not valid.");
            };
            if grant.revoked {
                return aadsts(StatusCode::BAD_REQUEST, "invalid_grant", 50173, "The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password.");
            }
            if grant.used {
                return aadsts(StatusCode::BAD_REQUEST, "invalid_grant", 700082, "The refresh token has expired due to inactivity or was already used. Send a new interactive authorization request for this user and resource.");
            }
            if grant.client_id != client || grant.tenant != t.id {
                return aadsts(StatusCode::BAD_REQUEST, "invalid_grant", 70000, "Provided grant is invalid or malformed: issued to another client.");
            }
            grant.used = true;
            let (user, granted) = (grant.user.clone(), grant.scope.clone());
            let scope = f.get("scope").cloned().unwrap_or(granted);
            issue_user_tokens(shared, &mut st, &t, &app, &scope, &user)
        }
        other => aadsts(StatusCode::BAD_REQUEST, "unsupported_grant_type", 70003, &format!("The app requested an unsupported grant type '{}'.", other.unwrap_or(""))),
    }
}

fn base_claims(base: &str, tid: &str, client: &str, aud: &str) -> Value {
    let now = now();
    let _ = base;
    json!({
        "aud": aud,
        "iss": format!("https://sts.windows.net/{tid}/"),
        "iat": now, "nbf": now, "exp": now + ACCESS_TOKEN_LIFETIME,
        "appid": client,
        "tid": tid,
        "ver": "1.0",
    })
}

/// Access token (audience from the first resource scope), rotating refresh token, id token.
fn issue_user_tokens(shared: &Shared, st: &mut State, t: &Tenant, app: &App, scope: &str, email: &str) -> Resp {
    let client = app.client_id.as_str();
    let Some(user) = t.users.iter().find(|u| u.email == email) else {
        return aadsts(StatusCode::BAD_REQUEST, "invalid_grant", 50034, "The user account does not exist in the directory.");
    };
    if user.blocked_by_conditional_access {
        return aadsts(StatusCode::BAD_REQUEST, "invalid_grant", 53003, "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.");
    }
    let scopes: Vec<&str> = scope.split(' ').filter(|s| !s.is_empty()).collect();
    // Resource scopes look like https://host/Perm; the access token is for that host.
    let (aud, perms): (String, Vec<String>) = {
        let res: Vec<(&str, &str)> = scopes.iter().filter_map(|s| s.strip_prefix("https://").and_then(|r| r.split_once('/'))).collect();
        match res.first() {
            Some((host, _)) => (format!("https://{host}"), res.iter().filter(|(h, _)| h == host).map(|(_, p)| p.to_string()).collect()),
            None => (GRAPH_AUDIENCE.to_string(), vec!["User.Read".into()]),
        }
    };
    let mut claims = base_claims(&shared.base, &t.id, client, &aud);
    claims["scp"] = json!(perms.join(" "));
    claims["upn"] = json!(user.email);
    claims["email"] = json!(user.email);
    claims["name"] = json!(user.name);
    claims["oid"] = json!(format!("oid-{}", user.email));
    let access = sign_jwt(&shared.key, &claims);
    let mut out = json!({
        "token_type": "Bearer",
        "scope": scopes.iter().filter(|s| s.starts_with("https://")).copied().collect::<Vec<_>>().join(" "),
        "expires_in": app.expires_in.clone().unwrap_or(json!(ACCESS_TOKEN_LIFETIME)),
        "ext_expires_in": ACCESS_TOKEN_LIFETIME,
        "access_token": access,
    });
    if scopes.contains(&"offline_access") {
        let rt = st.next("refresh");
        st.refresh.insert(rt.clone(), RefreshGrant { tenant: t.id.clone(), client_id: client.into(), scope: scope.into(), user: user.email.clone(), used: false, revoked: false });
        out["refresh_token"] = json!(rt);
    }
    if scopes.contains(&"openid") {
        let now = now();
        let id = json!({
            "aud": client,
            "iss": format!("{}/{}/v2.0", login_issuer_base(&shared.base), t.id),
            "iat": now, "nbf": now, "exp": now + ACCESS_TOKEN_LIFETIME,
            "tid": t.id, "oid": format!("oid-{}", user.email), "sub": format!("sub-{}", user.email),
            "name": user.name, "preferred_username": user.email, "email": user.email, "ver": "2.0",
        });
        out["id_token"] = json!(sign_jwt(&shared.key, &id));
    }
    json_response(StatusCode::OK, &out)
}

/// The id token's issuer is `{authority}/{tenant}/v2.0`, with the authority this fake serves.
fn login_issuer_base(base: &str) -> &str {
    base
}

// ------------------------------------------------------------------ JWT

pub fn sign_jwt(key: &RsaKeyPair, claims: &Value) -> String {
    let header = json!({"typ": "JWT", "alg": "RS256", "kid": KEY_ID});
    let signing_input = format!("{}.{}", B64URL.encode(header.to_string()), B64URL.encode(claims.to_string()));
    let mut sig = vec![0u8; key.public().modulus_len()];
    key.sign(&ring::signature::RSA_PKCS1_SHA256, &ring::rand::SystemRandom::new(), signing_input.as_bytes(), &mut sig).expect("sign");
    format!("{signing_input}.{}", B64URL.encode(sig))
}

/// The claims of a token signed by the test key, if the signature is right.
pub fn verify_jwt(key: &RsaKeyPair, token: &str) -> Option<Value> {
    let (input, sig) = token.rsplit_once('.')?;
    let sig = B64URL.decode(sig).ok()?;
    let components = public_components(key);
    components.verify(&ring::signature::RSA_PKCS1_2048_8192_SHA256, input.as_bytes(), &sig).ok()?;
    let (header, payload) = input.split_once('.')?;
    let header: Value = serde_json::from_slice(&B64URL.decode(header).ok()?).ok()?;
    if header["alg"] != "RS256" {
        return None;
    }
    serde_json::from_slice(&B64URL.decode(payload).ok()?).ok()
}

fn public_components(key: &RsaKeyPair) -> ring::signature::RsaPublicKeyComponents<Vec<u8>> {
    ring::signature::RsaPublicKeyComponents::<Vec<u8>>::from(key.public())
}

fn jwks(key: &RsaKeyPair) -> Value {
    let public = public_components(key);
    json!({"keys": [{
        "kty": "RSA", "use": "sig", "alg": "RS256", "kid": KEY_ID,
        "n": B64URL.encode(&public.n),
        "e": B64URL.encode(&public.e),
    }]})
}

fn valid_claims(shared: &Shared, token: &str) -> Option<Value> {
    let claims = verify_jwt(&shared.key, token)?;
    let exp = claims["exp"].as_u64()?;
    (exp > now()).then_some(claims)
}

// ------------------------------------------------------------------ introspection (Dovecot)

fn introspect(shared: &Shared, f: &HashMap<String, String>) -> Resp {
    let token = f.get("token").cloned().unwrap_or_default();
    let Some(claims) = valid_claims(shared, &token) else {
        return json_response(StatusCode::OK, &json!({"active": false}));
    };
    if !EXCHANGE_AUDIENCES.contains(&claims["aud"].as_str().unwrap_or("")) {
        return json_response(StatusCode::OK, &json!({"active": false}));
    }
    let scope = claims["scp"].as_str().map(String::from).unwrap_or_else(|| claims["roles"].as_array().map(|r| r.iter().filter_map(|x| x.as_str()).collect::<Vec<_>>().join(" ")).unwrap_or_default());
    let smtp_ok = scope.split(' ').any(|s| s == "SMTP.Send" || s == "SMTP.SendAsApp");
    // Delegated: the signed-in user; app-only: the mailbox the service principal may use.
    let email = claims["upn"].as_str().or(claims["x_smtp_mailbox"].as_str()).unwrap_or("");
    if !smtp_ok || email.is_empty() {
        return json_response(StatusCode::OK, &json!({"active": false}));
    }
    json_response(StatusCode::OK, &json!({
        "active": true, "email": email.to_ascii_lowercase(), "scope": scope,
        "client_id": claims["appid"], "exp": claims["exp"], "token_type": "Bearer",
    }))
}

// ------------------------------------------------------------------ Graph

fn graph_error(status: StatusCode, code: &str, message: &str) -> Resp {
    json_response(status, &json!({"error": {"code": code, "message": message, "innerError": {"date": time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_default(), "request-id": uuid_like(), "client-request-id": uuid_like()}}}))
}

fn send_mail(shared: &Shared, from: &str, auth: Option<&str>, content_type: &str, body: &[u8]) -> Resp {
    let from = percent_encoding::percent_decode_str(from).decode_utf8_lossy().into_owned();
    let Some(token) = auth.and_then(|a| a.strip_prefix("Bearer ")) else {
        return graph_error(StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken", "Access token is empty.");
    };
    let Some(claims) = valid_claims(shared, token) else {
        return graph_error(StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience or signature.");
    };
    if claims["aud"] != GRAPH_AUDIENCE {
        return graph_error(StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience.");
    }
    let st = shared.state.lock().unwrap();
    let tid = claims["tid"].as_str().unwrap_or("");
    let Some(t) = st.tenant(tid) else {
        return graph_error(StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken", "Access token validation failure. Unknown tenant.");
    };
    let delegated = claims["scp"].is_string();
    let may_send = if delegated {
        claims["scp"].as_str().unwrap_or("").split(' ').any(|s| s == "Mail.Send")
            && claims["upn"].as_str().is_some_and(|u| u.eq_ignore_ascii_case(&from))
    } else {
        claims["roles"].as_array().is_some_and(|r| r.iter().any(|x| x == "Mail.Send"))
    };
    if !t.users.iter().any(|u| u.email.eq_ignore_ascii_case(&from)) {
        return graph_error(StatusCode::NOT_FOUND, "ErrorInvalidUser", &format!("The requested user '{from}' is invalid."));
    }
    if !may_send {
        return graph_error(StatusCode::FORBIDDEN, "ErrorAccessDenied", "Access is denied. Check credentials and try again.");
    }
    // MIME format: the whole RFC 5322 message, base64, as text/plain.
    let json = if content_type.starts_with("text/plain") {
        match B64.decode(body.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect::<Vec<u8>>()) {
            Ok(mime) => json!({"mime": String::from_utf8_lossy(&mime)}),
            Err(_) => return graph_error(StatusCode::BAD_REQUEST, "ErrorMimeContentInvalidBase64String", "Invalid base64 string for MIME content."),
        }
    } else if content_type.starts_with("application/json") {
        match serde_json::from_slice::<Value>(body) {
            Ok(v) => v,
            Err(_) => return graph_error(StatusCode::BAD_REQUEST, "RequestBodyRead", "Invalid JSON in the request body."),
        }
    } else {
        return graph_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "UnsupportedMediaType", "Content-Type must be application/json or text/plain (MIME).");
    };
    if !json["message"].is_object() && !json["mime"].is_string() {
        return graph_error(StatusCode::BAD_REQUEST, "ErrorInvalidParameter", "The value of the parameter 'Message' is empty.");
    }
    let subject = claims["upn"].as_str().or(claims["appid"].as_str()).unwrap_or("").to_string();
    drop(st);
    shared.state.lock().unwrap().sent.push(SentMail { from, body: json, bearer_subject: subject });
    Response::builder().status(StatusCode::ACCEPTED).body(Full::new(Bytes::new())).expect("202")
}

/// Decodes a JWT's payload without checking anything (for tests reading claims).
pub fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap_or("");
    serde_json::from_slice(&B64URL.decode(payload).unwrap_or_default()).unwrap_or(Value::Null)
}

/// `base64(standard)` helper for tests building SASL strings.
pub fn b64(s: &str) -> String {
    B64.encode(s)
}

/// The tenant the long-lived `fake-entra` process (started by `scripts/test.sh`) serves, for
/// the CLI tests: IDs and secret are fixed and public (they are test values).
pub const STACK_TENANT: &str = "11111111-2222-4333-8444-555555555555";
pub const STACK_DOMAIN: &str = "contoso.example";
pub const STACK_CLIENT: &str = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";
pub const STACK_SECRET: &str = "fake~secret~value";
pub const STACK_USER: &str = "sender@example.test";
pub const STACK_PASSWORD: &str = "fake-user-password";

pub fn stack_tenant() -> Tenant {
    let mut t = standard_tenant(STACK_TENANT, STACK_DOMAIN, STACK_CLIENT, STACK_SECRET, "http://localhost/postdesk/callback", STACK_USER, STACK_PASSWORD);
    t.apps[0].redirect_uris.push("http://127.0.0.1/postdesk/callback".into());
    t
}

// ------------------------------------------------------------------ a tiny blocking client

/// A minimal HTTP/1.1 request for tests (`Connection: close`): status, headers (lower-case
/// names), body.
pub fn http(method: &str, url: &str, headers: &[(&str, &str)], body: Option<(&str, &[u8])>) -> (u16, Vec<(String, String)>, Vec<u8>) {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").expect("http:// URL");
    let (hostport, path) = rest.split_once('/').map(|(h, p)| (h, format!("/{p}"))).unwrap_or((rest, "/".into()));
    let mut s = std::net::TcpStream::connect(hostport).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {hostport}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    let body = body.map(|(ct, b)| {
        req.push_str(&format!("Content-Type: {ct}\r\n"));
        b.to_vec()
    });
    req.push_str(&format!("Content-Length: {}\r\n\r\n", body.as_ref().map_or(0, Vec::len)));
    s.write_all(req.as_bytes()).unwrap();
    if let Some(b) = body {
        s.write_all(&b).unwrap();
    }
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("HTTP head");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.lines();
    let status = lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|c| c.parse().ok()).expect("status");
    let headers: Vec<(String, String)> = lines.filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string())).collect();
    (status, headers, raw[split + 4..].to_vec())
}

pub fn header(headers: &[(String, String)], name: &str) -> Option<String> {
    headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
}

/// Does what a person does on the fake's sign-in page: opens the authorize URL, fills email
/// and password, and presses Accept (or Cancel). Returns the redirect `Location`, or the page
/// when there is no redirect.
pub fn fill_sign_in_form(authorize_url: &str, email: &str, password: &str, accept: bool) -> Result<String, (u16, String)> {
    let (status, _, page) = http("GET", authorize_url, &[], None);
    let page = String::from_utf8_lossy(&page).into_owned();
    if status != 200 {
        return Err((status, page));
    }
    // Post back the hidden fields the page carries, as a browser would.
    let mut pairs: Vec<(String, String)> = Vec::new();
    for input in page.split("<input type=\"hidden\" ").skip(1) {
        let attr = |name: &str| input.split(&format!("{name}=\"")).nth(1).and_then(|r| r.split('"').next()).map(html_unescape);
        if let (Some(n), Some(v)) = (attr("name"), attr("value")) {
            pairs.push((n, v));
        }
    }
    pairs.push(("login".into(), email.into()));
    pairs.push(("passwd".into(), password.into()));
    pairs.push(("consent".into(), if accept { "accept" } else { "refuse" }.into()));
    let action = page.split("action=\"").nth(1).and_then(|r| r.split('"').next()).expect("form action");
    let base = authorize_url.split('/').take(3).collect::<Vec<_>>().join("/");
    let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs.iter()).finish();
    let (status, headers, page) = http("POST", &format!("{base}{action}"), &[], Some(("application/x-www-form-urlencoded", body.as_bytes())));
    match header(&headers, "location") {
        Some(l) if status == 302 => Ok(l),
        _ => Err((status, String::from_utf8_lossy(&page).into_owned())),
    }
}

fn html_unescape(s: &str) -> String {
    s.replace("&quot;", "\"").replace("&#39;", "'").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
}
