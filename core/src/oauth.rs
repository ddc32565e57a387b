//! Microsoft 365 (Entra ID v2) OAuth: cloud presets, scopes, client credentials (app-only),
//! authorization code + PKCE + state (delegated), refresh with rotation, an in-memory access
//! token cache, and Entra's AADSTS errors. Tauri-free; the window and the CLI only show the
//! authorize URL and hand back the redirect.
//!
//! Secrets: the client secret and the refresh token live in the keychain only (through
//! [`Vault`], which `app.rs` backs with `secrets.rs`); access tokens only in this process's
//! memory, until shortly before they expire. A rotated refresh token is stored every time; a
//! revoked or expired one ends in "sign in again", never in a retry loop.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine;
use serde_json::Value;

use crate::model::{AuthMethod, Config, M365Cloud, M365Flow, ServerSettings};
use crate::settings::Settings;
use crate::error::Error;
use crate::secrets::Secret;

// The clouds' URLs are a pure table (redirect.rs reads them too).
pub use crate::clouds::cloud;

/// SMTP XOAUTH2 or Graph `sendMail`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Smtp,
    Graph,
}

/// The Microsoft 365 settings one server uses, resolved (overrides over the cloud's presets).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct M365 {
    /// Key prefix of the server (`global`, `client.<ID>`), for the keychain entries.
    pub prefix: String,
    pub tenant: String,
    pub client_id: String,
    pub flow: M365Flow,
    pub cloud: M365Cloud,
    pub authority: String,
    pub graph_url: String,
    pub transport: Transport,
    /// `proxy.*` (unset: the environment's and the desktop's proxy); the password is read
    /// from the keychain when a request needs it ([`M365::with_proxy_password`]).
    pub proxy: crate::proxy::Settings,
}

/// Timeout of one call to the token endpoint or Graph.
pub const HTTP_TIMEOUT: Duration = Duration::from_secs(20);
/// Access tokens are reused until this long before they expire.
const EXPIRY_MARGIN: Duration = Duration::from_secs(300);
/// The longest an access token is believed to live, whatever the token endpoint says (Entra's
/// last 60–90 minutes): a hostile or broken `expires_in` cannot pin a token in memory.
const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);
/// When the token endpoint names no lifetime (or one that is not a number).
const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

impl M365 {
    /// Reads the effective `m365.*` keys of a server (a client's unset keys come from global).
    pub fn from_config(config: &Config, prefix: &str) -> Result<M365, OAuthError> {
        let layer = match prefix.split_once('.') {
            Some(("client", id)) => config.clients.get(id).map(|c| &c.server),
            Some(("route", name)) => config.routes.get(name).map(|r| &r.server),
            _ => Some(&config.global),
        };
        // An unknown client or route has only what it inherits.
        let settings = match layer {
            Some(own) => own.inherit(&config.global),
            None => config.global.clone(),
        };
        let mut m = M365::from_settings(&settings, prefix)?;
        m.proxy = proxy_settings(config);
        Ok(m)
    }

    /// The Microsoft 365 settings of a server's settings in force ([`crate::resolve::Server::settings`]).
    pub fn from_settings(s: &ServerSettings, prefix: &str) -> Result<M365, OAuthError> {
        let transport = match s.auth() {
            AuthMethod::M365Smtp => Transport::Smtp,
            AuthMethod::M365Graph => Transport::Graph,
            _ => return Err(OAuthError::NotM365 { prefix: prefix.into() }),
        };
        let required = |name: &str| OAuthError::Required { key: format!("{prefix}.{name}") };
        let tenant = s.m365.tenant.clone().ok_or_else(|| required("m365.tenant"))?;
        let client_id = s.m365.client_id.clone().ok_or_else(|| required("m365.client_id"))?;
        let c = s.m365.cloud();
        let preset = cloud(c);
        let trim = |s: &String| s.trim_end_matches('/').to_string();
        Ok(M365 {
            prefix: prefix.into(),
            tenant,
            client_id,
            flow: s.m365.flow(),
            cloud: c,
            authority: s.m365.authority.as_ref().map(trim).unwrap_or_else(|| preset.authority.into()),
            graph_url: s.m365.graph_url.as_ref().map(trim).unwrap_or_else(|| preset.graph_url.into()),
            transport,
            proxy: crate::proxy::Settings::default(),
        })
    }

    /// These settings with the proxy password from the keychain, when a proxy user is set and
    /// the password is not read yet.
    pub fn with_proxy_password(&self, vault: &dyn Vault) -> Result<M365, OAuthError> {
        let mut m = self.clone();
        if m.proxy.url.is_some() && m.proxy.username.is_some() && m.proxy.password.is_none() {
            m.proxy.password = vault_get(vault, PROXY_PASSWORD)?;
        }
        Ok(m)
    }

    /// The proxy a request to `url` goes through: `proxy.*`, else the environment, else the
    /// desktop ([`crate::proxy`]); `None`: straight to the host.
    pub fn proxy_for(&self, url: &str) -> Result<Option<crate::proxy::Choice>, String> {
        let parsed = url::Url::parse(url).map_err(|e| format!("{url}: {e}"))?;
        let host = parsed.host_str().ok_or_else(|| format!("{url}: no host"))?;
        let port = parsed.port_or_known_default().unwrap_or(443);
        crate::sysproxy::choose(parsed.scheme(), host, port, &self.proxy)
    }

    pub fn token_url(&self) -> String {
        format!("{}/{}/oauth2/v2.0/token", self.authority, self.tenant)
    }

    pub fn authorize_url(&self) -> String {
        format!("{}/{}/oauth2/v2.0/authorize", self.authority, self.tenant)
    }

    pub fn send_mail_url(&self, from: &str) -> String {
        let from: String = url::form_urlencoded::byte_serialize(from.as_bytes()).collect();
        format!("{}/v1.0/users/{from}/sendMail", self.graph_url)
    }

    /// The scopes asked for: always the cloud's own resources, whatever the URL overrides say.
    pub fn scope(&self) -> String {
        let c = cloud(self.cloud);
        match (self.flow, self.transport) {
            (M365Flow::App, Transport::Smtp) => format!("{}/.default", c.exchange_app_resource),
            (M365Flow::App, Transport::Graph) => format!("{}/.default", c.graph_resource),
            (M365Flow::Delegated, Transport::Smtp) => format!("{}/SMTP.Send offline_access openid email", c.exchange_delegated_resource),
            (M365Flow::Delegated, Transport::Graph) => format!("{}/Mail.Send offline_access openid email", c.graph_resource),
        }
    }

    pub fn refresh_key(&self) -> String {
        format!("{}.m365.refresh_token", self.prefix)
    }

    pub fn account_key(&self) -> String {
        format!("{}.m365.account", self.prefix)
    }

    pub fn secret_key(&self) -> String {
        format!("{}.m365.client_secret", self.prefix)
    }
}


/// The keychain entry of the proxy password.
pub const PROXY_PASSWORD: &str = "proxy.password";

/// The `proxy.*` settings of a document (the password stays in the keychain until needed).
pub fn proxy_settings(config: &Config) -> crate::proxy::Settings {
    let p = &config.proxy;
    crate::proxy::Settings { url: p.url.clone(), no_proxy: p.no_proxy.clone(), username: p.username.clone(), password: None }
}

/// The keychain as OAuth needs it (`app.rs` backs it with `secrets.rs`).
pub trait Vault: Sync {
    fn get(&self, key: &str) -> Result<Option<Secret>, Error>;
    fn set(&self, key: &str, value: &Secret) -> Result<(), Error>;
    fn clear(&self, key: &str) -> Result<(), Error>;
}

// ------------------------------------------------------------------ errors

/// Why a Microsoft 365 setting, token or sign-in failed. The message texts are what the
/// diagnosis shows (and `hints.rs` matches); callers decide by variant.
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    #[error("{prefix}.auth: not a Microsoft 365 method")]
    NotM365 { prefix: String },
    /// A setting Microsoft 365 needs is unset (`key` is the full dotted key).
    #[error("{key}: required for Microsoft 365")]
    Required { key: String },
    /// The HTTP request to the token endpoint failed (connection, TLS, timeout).
    #[error("{0}")]
    Http(String),
    /// The token endpoint answered with an error.
    #[error(transparent)]
    Token(TokenError),
    #[error("the token endpoint answered something that is not JSON: {0}")]
    NotJson(serde_json::Error),
    /// `oauth2` refused the answer before reading it (not JSON by its Content-Type, empty).
    #[error("the token endpoint's answer cannot be used: {0}")]
    Endpoint(String),
    #[error("the token endpoint's answer has no access_token")]
    NoAccessToken,
    #[error(transparent)]
    IdToken(#[from] IdTokenError),
    /// The keychain could not be read.
    #[error("the OS keychain is not available: {0}")]
    Keychain(Error),
    /// A token could not be written to the keychain (`what`: which one).
    #[error("{what}: {source}")]
    Store { what: &'static str, source: Error },
    #[error("{key}: not set in the keychain (the app-only flow needs the client secret)")]
    NoClientSecret { key: String },
    #[error("not signed in to Microsoft 365 for {prefix}: use \"Sign in with Microsoft\" in the Security section or `postdesk login`")]
    NotSignedIn { prefix: String },
    #[error("the sign-in redirect cannot be read: {0}")]
    BadRedirect(url::ParseError),
    #[error("the sign-in answer does not belong to this sign-in (state mismatch): it was refused; sign in again")]
    StateMismatch,
    /// Entra answered the sign-in with an error (`access_denied`: the user cancelled or refused).
    #[error("{}{description} ({error})", if error == "access_denied" { "sign-in cancelled or consent refused: " } else { "" })]
    Refused { error: String, description: String },
    #[error("the sign-in redirect carries no code")]
    NoCode,
    #[error("Entra returned no refresh token (offline_access not granted)")]
    NoRefreshToken,
}

impl OAuthError {
    /// The keychain itself is unavailable (locked, not running): not a problem of the settings.
    pub fn keychain_unavailable(&self) -> bool {
        match self {
            OAuthError::Keychain(e) | OAuthError::Store { source: e, .. } => e.keychain_unavailable(),
            _ => false,
        }
    }
}

impl From<OAuthError> for String {
    fn from(e: OAuthError) -> String {
        e.to_string()
    }
}

/// An id token that cannot be accepted.
#[derive(Debug, thiserror::Error)]
pub enum IdTokenError {
    #[error("the id token is not a JWT")]
    NotJwt,
    #[error("the id token cannot be read")]
    Unreadable,
    #[error("the id token is for another application ({audience}), not {client_id}")]
    Audience { audience: Value, client_id: String },
    #[error("the id token's issuer {issuer} does not match its tenant {tenant}")]
    Issuer { issuer: String, tenant: String },
    #[error("signed in to tenant {tenant}, but {prefix}.m365.tenant is {configured}")]
    Tenant { tenant: String, prefix: String, configured: String },
    #[error("the id token names no account")]
    NoAccount,
}

/// An error answer of the token endpoint, in Entra's shape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenError {
    pub status: u16,
    pub error: String,
    /// The first AADSTS code, if any.
    pub code: Option<u32>,
    /// Entra's description up to its trace/correlation IDs.
    pub description: String,
}

/// Entra's error JSON, as the `oauth2` crate reads an error answer of the token endpoint.
/// Lenient: a field of another type makes `oauth2` fail to parse it, and the body is then
/// read by [`TokenError::parse`] the same way.
#[derive(Clone, Debug, Default, serde::Deserialize, serde::Serialize)]
pub struct EntraError {
    #[serde(default)]
    pub error: String,
    #[serde(default)]
    pub error_description: String,
    #[serde(default)]
    pub error_codes: Vec<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
}

impl std::fmt::Display for EntraError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.error, self.error_description)
    }
}

impl oauth2::ErrorResponse for EntraError {}

impl TokenError {
    /// An error answer's body (JSON in Entra's shape, or anything else).
    pub fn parse(status: u16, body: &[u8]) -> TokenError {
        let entra = serde_json::from_slice::<Value>(body).ok().map(|v| EntraError {
            error: v["error"].as_str().unwrap_or("").to_string(),
            error_description: v["error_description"].as_str().unwrap_or("").to_string(),
            error_codes: v["error_codes"].as_array().cloned().unwrap_or_default(),
            correlation_id: None,
            trace_id: None,
        });
        TokenError::from_entra(status, &entra.unwrap_or_default(), body)
    }

    /// Entra's error answer: the first AADSTS code (from `error_codes`, else the description),
    /// the description up to its trace/correlation IDs; `body` is shown when neither `error`
    /// nor a description says anything.
    pub fn from_entra(status: u16, e: &EntraError, body: &[u8]) -> TokenError {
        let error = e.error.clone();
        let full = e.error_description.as_str();
        let code = e.error_codes.first().and_then(Value::as_u64).and_then(|c| u32::try_from(c).ok()).or_else(|| {
            let rest = full.strip_prefix("AADSTS")?;
            rest.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
        });
        let description = full.split(" Trace ID:").next().unwrap_or("").trim().to_string();
        if error.is_empty() && description.is_empty() {
            let text = String::from_utf8_lossy(body).chars().take(200).collect::<String>();
            return TokenError { status, error: format!("HTTP {status}"), code: None, description: text };
        }
        TokenError { status, error, code, description }
    }

    /// The grant is gone (revoked, rotated away, expired, already redeemed): only a new
    /// interactive sign-in helps.
    pub fn needs_sign_in(&self) -> bool {
        self.error == "invalid_grant" && !matches!(self.code, Some(65001) | Some(53003) | Some(530035) | Some(501481) | Some(50011))
    }
}

impl std::error::Error for TokenError {}

impl std::fmt::Display for TokenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The description starts with "AADSTSnnnn:" already when Entra sent one.
        let lead = match self.code {
            Some(c) if !self.description.starts_with("AADSTS") => format!("AADSTS{c}: "),
            _ => String::new(),
        };
        write!(f, "{lead}{} ({}, HTTP {})", self.description, self.error, self.status)?;
        if self.needs_sign_in() {
            write!(f, " — sign in again")?;
        }
        Ok(())
    }
}

// ------------------------------------------------------------------ tokens

/// What a successful token request gives.
pub struct Tokens {
    pub access: Secret,
    pub expires_in: Duration,
    pub refresh: Option<Secret>,
    /// The signed-in account (from the id token), delegated only.
    pub account: Option<String>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens").field("expires_in", &self.expires_in).field("account", &self.account).finish_non_exhaustive()
    }
}

/// Entra's token answer as the `oauth2` crate reads it: the tokens in types that cannot be
/// printed, `expires_in` as sent (see [`token_lifetime`]), the id token for the account.
#[derive(serde::Deserialize, serde::Serialize)]
pub struct EntraTokens {
    access_token: oauth2::AccessToken,
    #[serde(default)]
    token_type: EntraTokenType,
    #[serde(default)]
    expires_in: Value,
    #[serde(default)]
    refresh_token: Option<oauth2::RefreshToken>,
    #[serde(default)]
    id_token: Option<Value>,
}

impl std::fmt::Debug for EntraTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EntraTokens").field("token_type", &self.token_type).field("expires_in", &self.expires_in).finish_non_exhaustive()
    }
}

/// `token_type` as sent (Entra: `Bearer`; not checked, as before).
#[derive(Clone, Debug, Default, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(transparent)]
pub struct EntraTokenType(Value);

impl oauth2::TokenType for EntraTokenType {}

impl oauth2::TokenResponse for EntraTokens {
    type TokenType = EntraTokenType;
    fn access_token(&self) -> &oauth2::AccessToken {
        &self.access_token
    }
    fn token_type(&self) -> &EntraTokenType {
        &self.token_type
    }
    fn expires_in(&self) -> Option<Duration> {
        Some(token_lifetime(&self.expires_in))
    }
    fn refresh_token(&self) -> Option<&oauth2::RefreshToken> {
        self.refresh_token.as_ref()
    }
    fn scopes(&self) -> Option<&Vec<oauth2::Scope>> {
        None
    }
}

/// The `oauth2` client of a server's token (and authorize) endpoint. The client ID (and the
/// secret, app-only) go in the request body, as Entra documents it.
type EntraClient<HasAuth> = oauth2::Client<
    EntraError,
    EntraTokens,
    oauth2::basic::BasicTokenIntrospectionResponse,
    oauth2::StandardRevocableToken,
    oauth2::basic::BasicRevocationErrorResponse,
    HasAuth,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointSet,
>;

fn entra_client(m: &M365) -> Result<EntraClient<oauth2::EndpointNotSet>, OAuthError> {
    let url = m.token_url();
    let token_url = oauth2::TokenUrl::new(url.clone()).map_err(|e| OAuthError::Http(format!("{url}: {e}")))?;
    Ok(oauth2::Client::new(oauth2::ClientId::new(m.client_id.clone())).set_auth_type(oauth2::AuthType::RequestBody).set_token_uri(token_url))
}

fn scopes(m: &M365) -> Vec<oauth2::Scope> {
    m.scope().split_whitespace().map(|s| oauth2::Scope::new(s.into())).collect()
}

/// The HTTP client of a token request: through the proxy chosen for the token URL.
fn token_http(m: &M365) -> Result<crate::http::OAuthHttp, OAuthError> {
    let proxy = m.proxy_for(&m.token_url()).map_err(OAuthError::Http)?;
    Ok(crate::http::OAuthHttp::new(proxy, HTTP_TIMEOUT))
}

/// A token request's outcome as before the move to `oauth2`: an error answer becomes a
/// [`TokenError`] (Entra's JSON, else the body), a 200 that is not a token answer `NotJson` or
/// `NoAccessToken`, no answer the HTTP error's text.
fn token_result(m: &M365, http: &crate::http::OAuthHttp, r: Result<EntraTokens, oauth2::RequestTokenError<crate::http::Error, EntraError>>) -> Result<Tokens, OAuthError> {
    use oauth2::RequestTokenError as R;
    let (status, body) = http.last().unwrap_or((0, Vec::new()));
    let t = match r {
        Ok(t) => t,
        Err(R::Request(e)) => return Err(OAuthError::Http(e.message)),
        Err(R::ServerResponse(e)) => return Err(OAuthError::Token(TokenError::from_entra(status, &e, &body))),
        Err(_) if status != 200 => return Err(OAuthError::Token(TokenError::parse(status, &body))),
        Err(R::Parse(e, body)) => {
            let body = zeroize::Zeroizing::new(body);
            return Err(match serde_json::from_slice::<Value>(&body) {
                Err(_) => OAuthError::NotJson(e.into_inner()),
                Ok(v) if !v["access_token"].is_string() => OAuthError::NoAccessToken,
                Ok(_) => OAuthError::NotJson(e.into_inner()),
            });
        }
        Err(R::Other(why)) => return Err(OAuthError::Endpoint(why)),
    };
    // The tokens are moved out of the answer into `Secret`s (wiped when dropped), not copied.
    let expires_in = token_lifetime(&t.expires_in);
    let account = match t.id_token.as_ref().and_then(Value::as_str) {
        Some(id) => Some(account_from_id_token(m, id)?),
        None => None,
    };
    let refresh = t.refresh_token.map(|r| Secret::new(r.into_secret()));
    let access = Secret::new(t.access_token.into_secret());
    Ok(Tokens { access, expires_in, refresh, account })
}

/// `expires_in` as sent: seconds as a number or a string (some servers quote it), clamped to
/// 0 ..= [`MAX_TOKEN_LIFETIME`]; anything else (negative, NaN, an object) counts as 0 or the
/// default. Never panics, whatever the server sends.
fn token_lifetime(v: &Value) -> Duration {
    let seconds: Option<f64> = match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    match seconds {
        Some(s) if s.is_nan() => DEFAULT_TOKEN_LIFETIME,
        Some(s) if s <= 0.0 => Duration::ZERO,
        Some(s) if s >= MAX_TOKEN_LIFETIME.as_secs_f64() => MAX_TOKEN_LIFETIME,
        Some(s) => Duration::from_secs(s as u64),
        None => DEFAULT_TOKEN_LIFETIME,
    }
}

/// The account of an id token received straight from the token endpoint (over TLS, so the
/// signature need not be checked, OIDC Core 3.1.3.7), after checking audience and tenant.
pub fn account_from_id_token(m: &M365, id_token: &str) -> Result<String, IdTokenError> {
    let payload = id_token.split('.').nth(1).ok_or(IdTokenError::NotJwt)?;
    let claims: Value = B64URL.decode(payload).ok().and_then(|b| serde_json::from_slice(&b).ok()).ok_or(IdTokenError::Unreadable)?;
    if claims["aud"].as_str() != Some(m.client_id.as_str()) {
        return Err(IdTokenError::Audience { audience: claims["aud"].clone(), client_id: m.client_id.clone() });
    }
    let tid = claims["tid"].as_str().unwrap_or("");
    let iss = claims["iss"].as_str().unwrap_or("");
    if !iss.ends_with(&format!("/{tid}/v2.0")) {
        return Err(IdTokenError::Issuer { issuer: iss.into(), tenant: tid.into() });
    }
    // A tenant given as a GUID must be the one that signed in (a domain cannot be compared).
    if m.tenant.contains('-') && m.tenant.len() == 36 && !m.tenant.eq_ignore_ascii_case(tid) {
        return Err(IdTokenError::Tenant { tenant: tid.into(), prefix: m.prefix.clone(), configured: m.tenant.clone() });
    }
    claims["preferred_username"].as_str().or(claims["email"].as_str()).or(claims["upn"].as_str()).map(String::from).ok_or(IdTokenError::NoAccount)
}

/// App-only: client credentials with the client secret.
pub async fn app_token(m: &M365, secret: &Secret) -> Result<Tokens, OAuthError> {
    let client = entra_client(m)?.set_client_secret(oauth2::ClientSecret::new(secret.expose().to_string()));
    let http = token_http(m)?;
    let r = client.exchange_client_credentials().add_scopes(scopes(m)).request_async(&http).await;
    token_result(m, &http, r)
}

/// Delegated: redeems a refresh token; Entra answers with a new one (rotation).
pub async fn refresh(m: &M365, refresh_token: &Secret) -> Result<Tokens, OAuthError> {
    let client = entra_client(m)?;
    let http = token_http(m)?;
    let rt = oauth2::RefreshToken::new(refresh_token.expose().to_string());
    let r = client.exchange_refresh_token(&rt).add_scopes(scopes(m)).request_async(&http).await;
    // `oauth2`'s secret types hold a plain String: this copy is wiped here.
    drop(zeroize::Zeroizing::new(rt.into_secret()));
    token_result(m, &http, r)
}

/// One cached access token: for the credential with this fingerprint, usable until `until`.
struct CachedToken {
    fingerprint: String,
    token: Secret,
    until: Instant,
}

/// Access tokens by server (token URL, client, scope): one each, so a rotated refresh token or
/// a new client secret replaces the old entry instead of leaving it behind. Expired entries
/// are dropped (and so wiped, `Secret`) whenever the cache is used.
fn cache() -> std::sync::MutexGuard<'static, HashMap<String, CachedToken>> {
    static CACHE: std::sync::OnceLock<Mutex<HashMap<String, CachedToken>>> = std::sync::OnceLock::new();
    let mut c = CACHE.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    let now = Instant::now();
    c.retain(|_, t| now < t.until);
    c
}

fn fingerprint(s: &Secret) -> String {
    B64URL.encode(&ring::digest::digest(&ring::digest::SHA256, s.expose().as_bytes()).as_ref()[..12])
}

/// The cache key of a server and the credential its token was obtained with.
struct CacheKey {
    server: String,
    fingerprint: String,
}

fn cache_key(m: &M365, credential: &Secret) -> CacheKey {
    CacheKey { server: format!("{}|{}|{}", m.token_url(), m.client_id, m.scope()), fingerprint: fingerprint(credential) }
}

fn cached(key: &CacheKey) -> Option<Secret> {
    cache().get(&key.server).filter(|t| t.fingerprint == key.fingerprint).map(|t| t.token.clone())
}

fn remember(key: CacheKey, t: &Tokens) {
    let mut c = cache();
    // No `until` (a lifetime shorter than the margin, or one the clock cannot represent): not kept.
    match Instant::now().checked_add(t.expires_in.saturating_sub(EXPIRY_MARGIN)) {
        Some(until) if t.expires_in > EXPIRY_MARGIN => {
            c.insert(key.server, CachedToken { fingerprint: key.fingerprint, token: t.access.clone(), until });
        }
        _ => {
            c.remove(&key.server);
        }
    }
}

/// Forgets every cached access token (sign-out, tests).
pub fn forget_cached_tokens() {
    cache().clear();
}

/// An access token for sending, and the account it acts for (delegated) — from the cache, by
/// client credentials, or by redeeming (and rotating) the stored refresh token.
pub async fn access_token(m: &M365, vault: &dyn Vault) -> Result<(Secret, Option<String>, String), OAuthError> {
    let m = &m.with_proxy_password(vault)?;
    match m.flow {
        M365Flow::App => {
            let secret = vault_get(vault, &m.secret_key())?.or(if m.prefix != "global" { vault_get(vault, "global.m365.client_secret")? } else { None });
            let secret = secret.ok_or_else(|| OAuthError::NoClientSecret { key: m.secret_key() })?;
            let key = cache_key(m, &secret);
            if let Some(t) = cached(&key) {
                return Ok((t, None, format!("app-only token for {} from memory", m.scope())));
            }
            let t = app_token(m, &secret).await?;
            remember(key, &t);
            Ok((t.access, None, format!("app-only token for {} (valid {} min)", m.scope(), t.expires_in.as_secs() / 60)))
        }
        M365Flow::Delegated => {
            // A client's server without its own sign-in uses the global one.
            let mut key_prefix = m.prefix.clone();
            let mut stored = vault_get(vault, &m.refresh_key())?;
            if stored.is_none() && m.prefix != "global" {
                stored = vault_get(vault, "global.m365.refresh_token")?;
                key_prefix = "global".into();
            }
            let Some(rt) = stored else {
                return Err(OAuthError::NotSignedIn { prefix: m.prefix.clone() });
            };
            let account = vault_get(vault, &format!("{key_prefix}.m365.account"))?.map(|a| a.expose().to_string());
            let key = cache_key(m, &rt);
            if let Some(t) = cached(&key) {
                return Ok((t, account.clone(), format!("delegated token for {} from memory", account.unwrap_or_default())));
            }
            let t = refresh(m, &rt).await?;
            // Rotation: the old refresh token stops working, so the new one is stored at once.
            if let Some(new) = &t.refresh {
                vault.set(&format!("{key_prefix}.m365.refresh_token"), new).map_err(|source| OAuthError::Store { what: "the new refresh token could not be stored in the keychain", source })?;
                remember(cache_key(m, new), &t);
            }
            let account = t.account.clone().or(account);
            if let Some(a) = &t.account {
                vault.set(&format!("{key_prefix}.m365.account"), &Secret::new(a.clone())).map_err(|source| OAuthError::Store { what: "keychain", source })?;
            }
            Ok((t.access, account.clone(), format!("delegated token for {} (refresh token rotated, valid {} min)", account.unwrap_or_default(), t.expires_in.as_secs() / 60)))
        }
    }
}

fn vault_get(vault: &dyn Vault, key: &str) -> Result<Option<Secret>, OAuthError> {
    vault.get(key).map_err(OAuthError::Keychain)
}

// ------------------------------------------------------------------ delegated sign-in

/// One interactive sign-in in progress: the authorize URL to open, and what is needed to
/// check the redirect and redeem its code.
pub struct SignIn {
    pub m: M365,
    pub url: String,
    pub state: oauth2::CsrfToken,
    pub redirect_uri: String,
    verifier: oauth2::PkceCodeVerifier,
}

/// S256 code challenge of a PKCE verifier (RFC 7636), as `oauth2` makes it (checked against RFC 7636 in the tests).
#[cfg(test)]
pub fn pkce_challenge(verifier: &str) -> String {
    oauth2::PkceCodeChallenge::from_code_verifier_sha256(&oauth2::PkceCodeVerifier::new(verifier.into())).as_str().to_string()
}

impl SignIn {
    /// Starts a sign-in with a fresh PKCE verifier (32 random bytes) and state (16).
    pub fn begin(m: &M365, redirect_uri: &str, login_hint: Option<&str>) -> SignIn {
        let (challenge, verifier) = oauth2::PkceCodeChallenge::new_random_sha256();
        let state = oauth2::CsrfToken::new_random();
        let given = state.clone();
        // The authorize URL is built from the server's settings (validated URLs); a URL that
        // does not parse gives an authorize URL that does not either (shown, not followed).
        let url = match (oauth2::AuthUrl::new(m.authorize_url()), oauth2::RedirectUrl::new(redirect_uri.into()), entra_client(m)) {
            (Ok(auth), Ok(redirect), Ok(client)) => {
                let client = client.set_auth_uri(auth).set_redirect_uri(redirect);
                let mut req = client.authorize_url(move || given).add_scopes(scopes(m)).set_pkce_challenge(challenge).add_extra_param("response_mode", "query").add_extra_param("prompt", "select_account");
                if let Some(h) = login_hint {
                    req = req.add_extra_param("login_hint", h.to_string());
                }
                req.url().0.to_string()
            }
            _ => m.authorize_url(),
        };
        SignIn { m: m.clone(), url, state, redirect_uri: redirect_uri.into(), verifier }
    }

    /// Whether a URL is the redirect this sign-in waits for (same scheme, host, port, path).
    pub fn is_redirect(&self, url: &str) -> bool {
        let (Ok(a), Ok(b)) = (url::Url::parse(url), url::Url::parse(&self.redirect_uri)) else { return false };
        a.scheme() == b.scheme() && a.host_str() == b.host_str() && a.port_or_known_default() == b.port_or_known_default() && a.path() == b.path()
    }

    /// The authorization code of the redirect, after checking its state; a refusal or an
    /// error of Entra becomes its message.
    pub fn code_from_redirect(&self, url: &str) -> Result<String, OAuthError> {
        let parsed = url::Url::parse(url).map_err(OAuthError::BadRedirect)?;
        let q: HashMap<String, String> = parsed.query_pairs().into_owned().collect();
        if q.get("state").map(String::as_str) != Some(self.state.secret().as_str()) {
            return Err(OAuthError::StateMismatch);
        }
        if let Some(error) = q.get("error") {
            let desc = q.get("error_description").map(String::as_str).unwrap_or("");
            let desc = desc.split(" Trace ID:").next().unwrap_or(desc);
            return Err(OAuthError::Refused { error: error.clone(), description: desc.into() });
        }
        q.get("code").cloned().ok_or(OAuthError::NoCode)
    }

    /// Redeems the code with the PKCE verifier.
    pub async fn redeem(&self, code: &str) -> Result<Tokens, OAuthError> {
        let redirect = oauth2::RedirectUrl::new(self.redirect_uri.clone()).map_err(|e| OAuthError::Http(format!("{}: {e}", self.redirect_uri)))?;
        let client = entra_client(&self.m)?.set_redirect_uri(redirect);
        let http = token_http(&self.m)?;
        let verifier = oauth2::PkceCodeVerifier::new(self.verifier.secret().clone());
        let r = client.exchange_code(oauth2::AuthorizationCode::new(code.into())).set_pkce_verifier(verifier).add_extra_param("scope", self.m.scope()).request_async(&http).await;
        let t = token_result(&self.m, &http, r)?;
        if t.refresh.is_none() {
            return Err(OAuthError::NoRefreshToken);
        }
        Ok(t)
    }

    /// Redeems and keeps the result: refresh token and account in the keychain, the access
    /// token in memory. Returns the account.
    pub async fn finish(&self, redirect_url: &str, vault: &dyn Vault) -> Result<String, OAuthError> {
        let code = self.code_from_redirect(redirect_url)?;
        let t = SignIn { m: self.m.with_proxy_password(vault)?, url: String::new(), state: self.state.clone(), redirect_uri: self.redirect_uri.clone(), verifier: oauth2::PkceCodeVerifier::new(self.verifier.secret().clone()) }.redeem(&code).await?;
        let rt = t.refresh.as_ref().expect("checked in redeem");
        vault.set(&self.m.refresh_key(), rt).map_err(|source| OAuthError::Store { what: "the refresh token could not be stored in the keychain", source })?;
        let account = t.account.clone().unwrap_or_default();
        vault.set(&self.m.account_key(), &Secret::new(account.clone())).map_err(|source| OAuthError::Store { what: "keychain", source })?;
        remember(cache_key(&self.m, rt), &t);
        Ok(account)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(flow: M365Flow, transport: Transport, c: M365Cloud) -> M365 {
        let p = cloud(c);
        M365 { prefix: "global".into(), tenant: "contoso.example".into(), client_id: "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee".into(), flow, cloud: c, authority: "http://127.0.0.1:9".into(), graph_url: p.graph_url.into(), transport, proxy: Default::default() }
    }

    #[test]
    fn scopes_are_the_clouds_resources_whatever_the_urls() {
        assert_eq!(m(M365Flow::App, Transport::Smtp, M365Cloud::Global).scope(), "https://outlook.office365.com/.default");
        assert_eq!(m(M365Flow::App, Transport::Graph, M365Cloud::Global).scope(), "https://graph.microsoft.com/.default");
        assert_eq!(m(M365Flow::Delegated, Transport::Smtp, M365Cloud::Global).scope(), "https://outlook.office.com/SMTP.Send offline_access openid email");
        assert_eq!(m(M365Flow::App, Transport::Graph, M365Cloud::UsGovDod).scope(), "https://dod-graph.microsoft.us/.default");
        assert_eq!(m(M365Flow::App, Transport::Graph, M365Cloud::China).scope(), "https://microsoftgraph.chinacloudapi.cn/.default");
        assert_eq!(m(M365Flow::App, Transport::Smtp, M365Cloud::Global).token_url(), "http://127.0.0.1:9/contoso.example/oauth2/v2.0/token");
    }

    #[test]
    fn authorize_url_has_pkce_s256_and_state() {
        let s = SignIn::begin(&m(M365Flow::Delegated, Transport::Smtp, M365Cloud::Global), "http://localhost/postdesk/callback", None);
        let u = url::Url::parse(&s.url).unwrap();
        let q: HashMap<String, String> = u.query_pairs().into_owned().collect();
        assert_eq!(q["code_challenge_method"], "S256");
        assert_eq!(q["code_challenge"], pkce_challenge(s.verifier.secret()));
        assert_eq!(&q["state"], s.state.secret());
        assert_eq!(q["redirect_uri"], "http://localhost/postdesk/callback");
        assert!(s.verifier.secret().len() >= 43);
        let other = SignIn::begin(&s.m, &s.redirect_uri, None);
        assert_ne!(other.state.secret(), s.state.secret());
        assert!(s.code_from_redirect(&format!("http://localhost/postdesk/callback?code=abc&state={}", other.state.secret())).unwrap_err().to_string().contains("state mismatch"));
        assert_eq!(s.code_from_redirect(&format!("http://localhost/postdesk/callback?code=abc&state={}", s.state.secret())).unwrap(), "abc");
        assert!(s.is_redirect("http://localhost/postdesk/callback?code=1"));
        assert!(!s.is_redirect("http://localhost/other"));
    }

    #[test]
    fn any_expires_in_gives_a_bounded_lifetime_without_panicking() {
        use serde_json::json;
        let day = MAX_TOKEN_LIFETIME;
        let cases = [
            (json!(3599), Duration::from_secs(3599)),
            (json!("3599"), Duration::from_secs(3599)),
            (json!(u64::MAX), day),
            (json!(u64::MAX.to_string()), day),
            (json!("99999999999999999999999999"), day),
            (json!(1e300), day),
            (json!(-1), Duration::ZERO),
            (json!(i64::MIN), Duration::ZERO),
            (json!("-5"), Duration::ZERO),
            (json!(-1e300), Duration::ZERO),
            (json!("NaN"), DEFAULT_TOKEN_LIFETIME),
            (json!("inf"), day),
            (json!("soon"), DEFAULT_TOKEN_LIFETIME),
            (json!(null), DEFAULT_TOKEN_LIFETIME),
            (json!({"s": 1}), DEFAULT_TOKEN_LIFETIME),
            (json!(12.9), Duration::from_secs(12)),
        ];
        for (v, want) in cases {
            let got = token_lifetime(&v);
            assert_eq!(got, want, "expires_in {v}");
            // What `remember` does with it must not panic either.
            let t = Tokens { access: Secret::new("t"), expires_in: got, refresh: None, account: None };
            remember(CacheKey { server: format!("test|{v}"), fingerprint: String::new() }, &t);
        }
    }

    #[test]
    fn pkce_challenge_is_base64url_sha256() {
        // printf %s VERIFIER | openssl dgst -sha256 -binary | base64 | tr '+/' '-_' | tr -d =
        assert_eq!(pkce_challenge("dBjftJeZ4CVP-mJ0kzNQ4b6gXWF1eOyPZ9zZ5cQ6C2Y"), "34OBSL4GweGpKGD6YRq3rmoDxIU_jHES6eHaXZILN-8");
    }

    #[test]
    fn aadsts_errors_parse() {
        let body = br#"{"error":"invalid_client","error_description":"AADSTS7000222: The provided client secret keys for app 'x' are expired. Trace ID: 1 Correlation ID: 2 Timestamp: 2026-01-01 00:00:00Z","error_codes":[7000222],"timestamp":"2026-01-01 00:00:00Z","trace_id":"1","correlation_id":"2"}"#;
        let e = TokenError::parse(401, body);
        assert_eq!(e.code, Some(7000222));
        assert!(!e.to_string().contains("Trace ID"));
        assert!(crate::hints::hint_for(crate::diagnosis::Stage::Token, &e.to_string()).unwrap().contains("expired"));
        let g = TokenError::parse(400, br#"{"error":"invalid_grant","error_description":"AADSTS700082: The refresh token has expired.","error_codes":[700082]}"#);
        assert!(g.needs_sign_in() && g.to_string().contains("sign in again"));
        let html = TokenError::parse(502, b"<html>bad gateway</html>");
        assert_eq!(html.code, None);
        assert!(html.to_string().contains("HTTP 502"));
    }

    /// A token endpoint on loopback that answers one request with `answer`; the settings.
    async fn endpoint(answer: String) -> M365 {
        let port = crate::http::tests::answers(answer).await;
        let mut s = m(M365Flow::App, Transport::Graph, M365Cloud::Global);
        s.authority = format!("http://127.0.0.1:{port}");
        s.proxy.no_proxy = Some("*".into());
        s
    }

    fn http(status: &str, content_type: &str, body: &str) -> String {
        format!("HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{body}", body.len())
    }

    #[test]
    fn token_answers_map_as_before_through_oauth2() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let secret = Secret::new("s3cret");
            // Entra's error JSON: AADSTS code and description, the status.
            let body = r#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided. Trace ID: 1 Correlation ID: 2","error_codes":[7000215],"trace_id":"1","correlation_id":"2"}"#;
            let e = app_token(&endpoint(http("401 Unauthorized", "application/json; charset=utf-8", body)).await, &secret).await.unwrap_err();
            let OAuthError::Token(t) = &e else { panic!("{e:?}") };
            assert_eq!((t.status, t.code, t.error.as_str()), (401, Some(7000215), "invalid_client"));
            assert_eq!(e.to_string(), "AADSTS7000215: Invalid client secret provided. (invalid_client, HTTP 401)");
            assert!(crate::hints::hint_for(crate::diagnosis::Stage::Token, &e.to_string()).unwrap().contains("Value, not its ID"));
            // A gateway's HTML page: the status and the text.
            let e = app_token(&endpoint(http("502 Bad Gateway", "text/html", "<html>bad gateway</html>")).await, &secret).await.unwrap_err();
            assert_eq!(e.to_string(), "<html>bad gateway</html> (HTTP 502, HTTP 502)");
            // 200 without a token, 200 that is not JSON.
            let e = app_token(&endpoint(http("200 OK", "application/json", r#"{"token_type":"Bearer"}"#)).await, &secret).await.unwrap_err();
            assert!(matches!(e, OAuthError::NoAccessToken), "{e:?}");
            let e = app_token(&endpoint(http("200 OK", "application/json", "{not json")).await, &secret).await.unwrap_err();
            assert!(matches!(e, OAuthError::NotJson(_)), "{e:?}");
            let e = app_token(&endpoint(http("200 OK", "text/html", "<html>portal</html>")).await, &secret).await.unwrap_err();
            assert!(matches!(e, OAuthError::Endpoint(_)) && e.to_string().contains("Content-Type"), "{e:?}");
            // A token with a quoted lifetime; nothing of it in Debug.
            let t = app_token(&endpoint(http("200 OK", "application/json", r#"{"token_type":"Bearer","expires_in":"3599","access_token":"tok-123"}"#)).await, &secret).await.unwrap();
            assert_eq!((t.access.expose(), t.expires_in), ("tok-123", Duration::from_secs(3599)));
            let parsed: EntraTokens = serde_json::from_str(r#"{"access_token":"tok-123","refresh_token":"rt-456","expires_in":1}"#).unwrap();
            let shown = format!("{parsed:?}");
            assert!(!shown.contains("tok-123") && !shown.contains("rt-456"), "{shown}");
        });
    }
}
