//! Sending a mail (a test mail or a message from `postdesk send`) through the resolved server,
//! as a diagnosis: the `config` step, then the transport's steps, then `delivered`.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::diagnosis::{Failure, FailureKind, Progress, Report, Stage};
use crate::hints::hint_for;
use crate::message::{render, Draft, Mailbox};
use crate::oauth::{self, Transport, Vault};
use crate::model::{AuthMethod, Config, EmailType};
use crate::resolve::{resolve_route, Route, Server};
use crate::secrets::Secret;
use crate::smtp::{self, Credentials, Endpoint, Envelope, Recorder};
use crate::validate::{check_email, validate, Context};

/// The keychain as sending needs it: read secrets by key (`global.password`), and store a
/// rotated Microsoft 365 refresh token; `Err` when the keychain is unavailable.
pub type SecretLookup<'a> = &'a dyn Vault;

/// A mail to send. `Default` is Postdesk's test mail to nobody, with every option off.
#[derive(Default)]
pub struct Request {
    pub to: Vec<String>,
    pub client: Option<String>,
    /// Overrides the server's sender address.
    pub from: Option<String>,
    /// Overrides the server's timeout.
    pub timeout: Option<Duration>,
    /// A complete RFC 5322 message to send; `None` sends Postdesk's test mail.
    pub message: Option<Vec<u8>>,
    /// A plain-text mail to build with the server's sender (a template preview); used when
    /// `message` is `None`.
    pub compose: Option<Compose>,
    /// A priority mail (`send --priority`): see `limits.ignore_dne_for`.
    pub priority: bool,
    /// The data directory's sent-mail count; required when `limits.max_per_day` is set.
    pub sent_log: Option<crate::limits::SentLog>,
    /// The envelope sender is the null sender `<>` (`send -f '<>'`); `from` is then `None`
    /// and routing goes by the server's sender address.
    pub null_sender: bool,
    /// `send -F`: the display name of the From field added to a message that has none.
    pub full_name: Option<String>,
}

/// Subject and body of a mail Postdesk builds itself.
#[derive(Clone, Debug)]
pub struct Compose {
    pub subject: String,
    pub body: String,
}

/// Sends and reports every step. `cancel` completing stops the attempt where it is.
pub async fn send(
    config: &Config,
    secrets: SecretLookup<'_>,
    request: Request,
    progress: &mut (dyn FnMut(Progress) + Send),
    cancel: impl Future<Output = ()>,
) -> Report {
    let mut rec = Recorder::new(progress);
    let mut server_summary = None;
    let mut reservation = None;
    let outcome = {
        let attempt = attempt(config, secrets, &request, &mut rec, &mut server_summary, &mut reservation);
        tokio::select! {
            r = attempt => r,
            _ = cancel => Err(Failure::cancelled(Stage::Config)),
        }
    };
    let outcome = match outcome {
        Err(f) if f.kind == FailureKind::Cancelled => {
            // The stage that was running when cancelled.
            let stage = rec.running().unwrap_or(f.stage);
            rec.cancel_running();
            Err(Failure::cancelled(stage))
        }
        other => other,
    };
    // A mail that failed before its data was handed over does not count. (Should anything above
    // panic, `reservation` is dropped while unwinding, which gives the slot back too.)
    if let Some(r) = reservation {
        match &outcome {
            Err(f) if !matches!(f.stage, Stage::Data | Stage::Graph | Stage::Delivered) => {
                let _ = r.release();
            }
            _ => r.keep(),
        }
    }
    Report::of(server_summary, rec.steps, rec.transcript, outcome, hint_for)
}

/// A report for a mail that could not even be prepared (e.g. a value that does not parse).
pub fn config_failure(error: String, progress: &mut (dyn FnMut(Progress) + Send)) -> Report {
    let mut rec = Recorder::new(progress);
    rec.start(Stage::Config);
    let f = rec.fail_at(Stage::Config, FailureKind::Config, error);
    Report::of(None, rec.steps, rec.transcript, Err(f), hint_for)
}

async fn attempt(
    config: &Config,
    secrets: SecretLookup<'_>,
    request: &Request,
    rec: &mut Recorder<'_>,
    summary: &mut Option<crate::diagnosis::ServerSummary>,
    reservation: &mut Option<crate::limits::Reservation>,
) -> Result<(), Failure> {
    rec.start(Stage::Config);
    let prepared = match prepare(config, secrets, request) {
        Ok(p) => p,
        Err(NotReady { kind, error }) => return Err(rec.fail_at(Stage::Config, kind, error)),
    };
    *summary = Some(prepared.server.summary());
    rec.finish(true, prepared.detail.clone());
    *reservation = limits_step(config, request, rec)?;
    let Prepared { server, envelope, mailbox, message, mut credentials, m365, draft, .. } = prepared;
    let graph = m365.as_ref().is_some_and(|m| m.transport == Transport::Graph);
    // Receive-before-send is for SMTP servers; a sendmail program or Graph is not logged in to.
    if config.receiver.before_send == Some(true) && server.email_type == EmailType::Smtp && !graph {
        receive_before_send(config, secrets, rec).await?;
    }
    if let Some(m) = &m365 {
        // Graph's host is what the mail goes through (also when the proxy or token step fails).
        if m.transport == Transport::Graph {
            if let (Some(s), Ok(u)) = (summary.as_mut(), url::Url::parse(&m.graph_url)) {
                s.host = u.host_str().unwrap_or_default().to_string();
                s.port = u.port_or_known_default().unwrap_or(443);
                s.security = if u.scheme() == "https" { "tls".into() } else { "none".into() };
            }
        }
        let watched = Watched { vault: secrets, unreadable: AtomicBool::new(false) };
        let m = &proxy_step(m, &watched, rec).await?;
        rec.start(Stage::Token);
        let (token, account, detail) = match oauth::access_token(m, &watched).await {
            Ok(t) => t,
            // `oauth` says why in words; whether the keychain could be read is known here.
            Err(e) => {
                let kind = if watched.unreadable.load(Ordering::Relaxed) { FailureKind::KeychainUnavailable } else { FailureKind::Auth };
                return Err(rec.fail_at(Stage::Token, kind, e.to_string()));
            }
        };
        let mut detail = detail;
        if let Some(account) = &account {
            if !account.eq_ignore_ascii_case(&mailbox) {
                detail.push_str(&format!(
                    "\nFrom {mailbox} is not the signed-in account {account}: Microsoft 365 accepts it only if {account} may send as {mailbox} (Send As permission)"
                ));
            }
        }
        rec.finish(true, detail);
        if m.transport == Transport::Graph {
            let reply = graph_send(m, &token, &mailbox, &envelope, draft.as_ref(), &message, rec).await?;
            rec.start(Stage::Delivered);
            rec.finish(true, reply);
            return Ok(());
        }
        // XOAUTH2 names the mailbox: the signed-in account (delegated) or From (app-only).
        credentials = Some(Credentials::OAuth2 { username: account.unwrap_or_else(|| mailbox.clone()), token });
    }
    let reply = match server.email_type {
        EmailType::Sendmail => sendmail(&server, &envelope, &message, rec).await?,
        EmailType::Smtp => {
            let endpoint = Endpoint {
                host: server.host.clone(),
                port: server.port,
                security: server.security,
                tls_verify: server.tls_verify,
                ca_file: server.ca_file.as_ref().map(Into::into),
                timeout: request.timeout.unwrap_or(server.timeout),
                data_timeout: server.data_timeout,
                helo_name: server.settings.helo_name.clone(),
            };
            smtp::send(&endpoint, credentials.as_ref(), &envelope, &message, rec).await?
        }
    };
    rec.start(Stage::Delivered);
    rec.finish(true, reply);
    Ok(())
}

/// The `proxy` step, only when a proxy carries the token request (or Graph's): connect to
/// the proxy and ask it to CONNECT to each host this mail needs; its answer is the detail.
/// Gives the settings with the proxy password read from the keychain.
async fn proxy_step(m: &oauth::M365, vault: &Watched<'_>, rec: &mut Recorder<'_>) -> Result<oauth::M365, Failure> {
    let m = match m.with_proxy_password(vault) {
        Ok(m) => m,
        Err(e) => {
            rec.start(Stage::Proxy);
            let kind = if vault.unreadable.load(Ordering::Relaxed) { FailureKind::KeychainUnavailable } else { FailureKind::Config };
            return Err(rec.fail_at(Stage::Proxy, kind, e.to_string()));
        }
    };
    let mut urls = vec![m.token_url()];
    if m.transport == Transport::Graph {
        urls.push(m.send_mail_url("x"));
    }
    let mut targets: Vec<(crate::proxy::Choice, String, u16)> = Vec::new();
    for url in &urls {
        let choice = match m.proxy_for(url) {
            Ok(c) => c,
            Err(e) => {
                rec.start(Stage::Proxy);
                return Err(rec.fail_at(Stage::Proxy, FailureKind::Config, e));
            }
        };
        let (Some(choice), Ok(u)) = (choice, url::Url::parse(url)) else { continue };
        let host = u.host_str().unwrap_or_default().trim_start_matches('[').trim_end_matches(']').to_string();
        let port = u.port_or_known_default().unwrap_or(443);
        if u.scheme() == "https" && !targets.iter().any(|(_, h, p)| *h == host && *p == port) {
            targets.push((choice, host, port));
        }
    }
    if targets.is_empty() {
        return Ok(m);
    }
    rec.start(Stage::Proxy);
    let mut lines = Vec::new();
    for (choice, host, port) in targets {
        match crate::http::connect_probe(&choice, &host, port, oauth::HTTP_TIMEOUT).await {
            Ok(status) => lines.push(format!("{}: CONNECT {host}:{port} → {status}", choice.describe())),
            Err(e) => return Err(rec.fail_at(Stage::Proxy, e.kind, format!("{} — {}", e.message, choice.describe()))),
        }
    }
    rec.finish(true, lines.join("\n"));
    Ok(m)
}

/// The `receiver` step: log in to the receiver mailbox first (receive-before-send). Its own
/// stages are summed up in the step's detail; a failure reads `<stage>: <error>`.
async fn receive_before_send(config: &Config, secrets: SecretLookup<'_>, rec: &mut Recorder<'_>) -> Result<(), Failure> {
    let login = match crate::receiver::login_from(config, secrets) {
        Ok(Some(login)) => login,
        Ok(None) => return Ok(()), // receiver off: validation warns that before_send does nothing
        Err(f) => {
            rec.start(Stage::Receiver);
            return Err(rec.fail_at(Stage::Receiver, f.kind, format!("config: {}", f.error)));
        }
    };
    rec.start(Stage::Receiver);
    let mut quiet = |_| {};
    let mut inner = Recorder::new(&mut quiet);
    let outcome = crate::receiver::log_in(&login, &mut inner).await;
    let stages = inner.steps.iter().map(|s| format!("{} {} {} ms", s.stage.as_str(), if s.ok { "✓" } else { "✗" }, s.ms)).collect::<Vec<_>>().join(", ");
    rec.transcript.extend(inner.transcript.iter().map(|l| format!("[receiver] {l}")));
    let what = format!("{} {}:{} as {}", login.protocol.as_str(), login.host, login.port, login.username);
    match outcome {
        Ok(said) => {
            rec.finish(true, format!("logged in to {what} ({stages})\n{said}"));
            Ok(())
        }
        Err(f) => Err(rec.fail_at(Stage::Receiver, f.kind, format!("{}: {} ({what}; {stages})", f.stage.as_str(), f.error))),
    }
}

struct Prepared {
    server: Server,
    envelope: Envelope,
    /// The From address the mail is sent for (routing, Graph's mailbox, XOAUTH2 app-only);
    /// the envelope's is empty for the null sender.
    mailbox: String,
    message: Vec<u8>,
    credentials: Option<Credentials>,
    /// Microsoft 365 settings when the server signs in with OAuth.
    m365: Option<oauth::M365>,
    /// The test mail's parts (Graph sends them as JSON); `None` for a given message.
    draft: Option<Draft>,
    detail: String,
}

/// Why the `config` step failed: the settings or the mail (`Config`), or the keychain.
struct NotReady {
    kind: FailureKind,
    error: String,
}

impl From<String> for NotReady {
    fn from(error: String) -> NotReady {
        NotReady { kind: FailureKind::Config, error }
    }
}

/// The keychain as the token step hands it to `oauth`, noting whether reading it failed: the
/// step's failure is then "keychain unavailable", whatever words `oauth` chose.
struct Watched<'a> {
    vault: SecretLookup<'a>,
    unreadable: AtomicBool,
}

impl Vault for Watched<'_> {
    fn get(&self, key: &str) -> Result<Option<Secret>, crate::error::Error> {
        let got = self.vault.get(key);
        if got.is_err() {
            self.unreadable.store(true, Ordering::Relaxed);
        }
        got
    }
    fn set(&self, key: &str, value: &Secret) -> Result<(), crate::error::Error> {
        self.vault.set(key, value)
    }
    fn clear(&self, key: &str) -> Result<(), crate::error::Error> {
        self.vault.clear(key)
    }
}

/// The `config` step: route, validation of what this mail needs, secrets, the message.
fn prepare(config: &Config, secrets: SecretLookup<'_>, request: &Request) -> Result<Prepared, NotReady> {
    let identity = crate::identity::sender_identity(config, request.client.as_deref(), request.from.as_deref())?;
    let (route, reason) = resolve_route(config, request.client.as_deref(), identity.from.as_deref()).map_err(|e| e.to_string())?;
    let reason = identity.reasons.iter().map(String::as_str).chain([reason.as_str()]).collect::<Vec<_>>().join("; ");
    let Route::Send(server) = route else { return Err(reason.into()) };
    let server = *server;
    let today = time::OffsetDateTime::now_utc().date();
    let problems: Vec<String> = validate(config, &Context { today, secrets_set: None })
        .into_iter()
        .filter(|p| p.is_blocking() && (p.key.starts_with(&format!("{}.", server.prefix)) || p.key.starts_with("global.")))
        .map(|p| p.to_string())
        .collect();
    if !problems.is_empty() {
        return Err(problems.join("; ").into());
    }
    let from = match (&identity.from, &server.sender) {
        (Some(f), _) => f.clone(),
        (None, Some(s)) => s.address.clone(),
        (None, None) => return Err(format!("{}.sender.address: required to send mail", server.prefix).into()),
    };
    check_email(&from, server.utf8_headers).map_err(|e| format!("from address {from}: {e}"))?;
    if request.to.is_empty() {
        return Err(String::from("no recipient given").into());
    }
    for to in &request.to {
        check_email(to, server.utf8_headers).map_err(|e| format!("recipient {to}: {e}"))?;
    }
    // Before any step: a FIFO or device named as CA file would otherwise block the TLS setup.
    if let Some(ca) = server.ca_file.as_deref().filter(|_| server.email_type == EmailType::Smtp && server.tls_verify) {
        crate::files::check_ca_file(std::path::Path::new(ca)).map_err(|e| format!("{}.ca_file: {ca} {e}", server.prefix))?;
    }
    let credentials = match server.auth {
        AuthMethod::Password if server.email_type == EmailType::Smtp => {
            let key = format!("{}.password", server.prefix);
            let password = lookup(secrets, &key)?.or(if server.prefix != "global" { lookup(secrets, "global.password")? } else { None });
            let password = password.ok_or_else(|| format!("{key}: no password is saved for this server"))?;
            Some(Credentials::Password { username: server.username.clone(), password })
        }
        _ => None,
    };
    let m365 = match server.auth.is_m365() {
        true => {
            let mut m = oauth::M365::from_settings(&server.settings, &server.prefix).map_err(String::from)?;
            m.proxy = oauth::proxy_settings(config);
            Some(m)
        }
        false => None,
    };
    let from_name = identity.from_name.clone().or_else(|| server.sender.as_ref().and_then(|s| s.name.clone()));
    let header_from = Mailbox { name: from_name, address: from.clone() };
    let reply_to = identity.reply_to.clone().or_else(|| server.reply_to.clone());
    // The parts of a mail Postdesk writes itself (Graph sends them as JSON); `None` for a given message.
    let draft = match (&request.message, &request.compose) {
        (Some(_), _) => None,
        (None, Some(c)) => Some(composed_draft(&server, &header_from, reply_to.clone(), &request.to, c)),
        (None, None) => Some(test_draft(&server, &header_from, reply_to.clone(), &request.to)),
    };
    let message = match (&request.message, &draft) {
        (Some(m), _) => {
            // A concealed sender's own message leaves with the system's address too.
            let m = match identity.reply_to.is_some() {
                true => crate::identity::rewrite_sender(m, &header_from, reply_to.as_ref(), server.utf8_headers)?,
                false => m.clone(),
            };
            // What sendmail adds to a message without it: From (named by -F), Date, Message-ID.
            let added = Mailbox { name: request.full_name.clone().or(header_from.name.clone()), address: from.clone() };
            crate::message::complete_headers(&m, &added, server.utf8_headers, time::OffsetDateTime::now_utc()).map_err(String::from)?
        }
        (None, Some(d)) => render(d, time::OffsetDateTime::now_utc()),
        (None, None) => unreachable!("a draft is made whenever no message is given"),
    };
    // Graph mails a MIME message to its headers' recipients, not to an envelope.
    let message = match &m365 {
        Some(m) if m.transport == Transport::Graph && request.message.is_some() => graph_mime(message, &request.to)?,
        _ => message,
    };
    let smtputf8 = server.utf8_headers;
    let detail = format!(
        "{} via {}: {reason}",
        match (&request.message, &request.compose) {
            (Some(_), _) => "message",
            (None, Some(_)) => "composed mail",
            (None, None) => "test mail",
        },
        match (&m365, server.email_type) {
            (Some(m), _) if m.transport == Transport::Graph => format!("Microsoft Graph {}", m.graph_url),
            (_, EmailType::Sendmail) => server.sendmail_path.clone(),
            (_, EmailType::Smtp) => format!("{}:{}", server.host, server.port),
        }
    );
    let envelope = Envelope { from: if request.null_sender { String::new() } else { from.clone() }, to: request.to.clone(), smtputf8 };
    Ok(Prepared { server, envelope, mailbox: from, message, credentials, m365, draft, detail })
}

/// The `limits` step: the Do-Not-Email list, then a slot under the daily limit. Nothing has
/// been sent when it fails, to any recipient.
fn limits_step(config: &Config, request: &Request, rec: &mut Recorder<'_>) -> Result<Option<crate::limits::Reservation>, Failure> {
    use crate::limits::{duration_text, Reserve};
    rec.start(Stage::Limits);
    let mut notes = Vec::new();
    let listed = crate::dne::listed_recipients(config, &request.to);
    if listed.is_empty() {
        notes.push("no recipient is on the Do-Not-Email list".to_string());
    } else {
        let names = listed
            .iter()
            .map(|(to, entry)| if to.eq_ignore_ascii_case(entry) { to.clone() } else { format!("{to} (entry {entry})") })
            .collect::<Vec<_>>()
            .join(", ");
        if crate::dne::applies(config, request.priority) {
            let why = match (config.limits.ignore_dne_for(), request.priority) {
                (crate::model::IgnoreDne::Priority, false) => " (only priority mails may go to listed addresses)",
                _ => "",
            };
            return Err(rec.fail_at(
                Stage::Limits,
                FailureKind::Limits,
                format!("refused by the Do-Not-Email list: {names} {} on the list{why}; nothing was sent to any recipient", if listed.len() == 1 { "is" } else { "are" }),
            ));
        }
        notes.push(format!("on the Do-Not-Email list, sent anyway (limits.ignore_dne_for = {}): {names}", crate::settings::default_text(&config.limits.ignore_dne_for())));
    }
    let max = config.limits.max_per_day.unwrap_or(0);
    let reservation = match &request.sent_log {
        None if max > 0 => return Err(rec.fail_at(Stage::Limits, FailureKind::Config, "daily limit: the sent-mail count is not available to this sender".into())),
        None => None,
        Some(log) => match log.reserve(max) {
            Err(e) => return Err(rec.fail_at(Stage::Limits, FailureKind::Io, format!("daily limit: {e}"))),
            Ok(Reserve::Full { count, oldest_ends_in_ms }) => {
                return Err(rec.fail_at(
                    Stage::Limits,
                    FailureKind::Limits,
                    format!(
                        "daily limit reached: {count} mails in the last 24 hours, limits.max_per_day is {max}; nothing was sent (the next mail can go in {})",
                        duration_text(oldest_ends_in_ms)
                    ),
                ))
            }
            Ok(Reserve::Taken(r)) => {
                notes.push(if max > 0 {
                    format!("mail {} of {max} in the last 24 hours", r.count)
                } else {
                    format!("mail {} in the last 24 hours (no daily limit)", r.count)
                });
                Some(r)
            }
        },
    };
    rec.finish(true, notes.join("; "));
    Ok(reservation)
}

/// A plain-text mail from the server's sender, e.g. an invitation template's preview.
fn composed_draft(server: &Server, from: &Mailbox, reply_to: Option<Mailbox>, to: &[String], compose: &Compose) -> Draft {
    Draft {
        from: from.clone(),
        reply_to,
        to: to.to_vec(),
        subject: compose.subject.clone(),
        body: compose.body.clone(),
        utf8_headers: server.utf8_headers,
    }
}

fn lookup(secrets: SecretLookup<'_>, key: &str) -> Result<Option<Secret>, NotReady> {
    secrets.get(key).map_err(|e| NotReady { kind: FailureKind::KeychainUnavailable, error: format!("the OS keychain is not available: {e}") })
}

fn this_host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "this computer".into())
}

/// Postdesk's test mail: says which server and settings sent it.
fn test_draft(server: &Server, from: &Mailbox, reply_to: Option<Mailbox>, to: &[String]) -> Draft {
    let where_ = match server.email_type {
        EmailType::Sendmail => format!("the sendmail program {}", server.sendmail_path),
        EmailType::Smtp => format!("{}:{}", server.host, server.port),
    };
    let word = |v: serde_json::Value| v.as_str().unwrap_or_default().to_string();
    let body = format!(
        "This is a test mail from Postdesk.\n\n\
         It was sent from {host} with these settings:\n\
         \x20 Server:          {where_} ({source})\n\
         \x20 Encryption:      {security}\n\
         \x20 Authentication:  {auth}\n\
         \x20 Sender:          {from}\n\
         \x20 UTF-8 headers:   {utf8}\n\n\
         If you can read this, the outgoing mail settings work.\n",
        host = this_host(),
        from = from.address,
        source = server.source,
        security = word(serde_json::to_value(server.security).expect("enum")),
        auth = word(serde_json::to_value(server.auth).expect("enum")),
        utf8 = if server.utf8_headers { "on (RFC 6532)" } else { "off" },
    );
    Draft {
        from: from.clone(),
        reply_to,
        to: to.to_vec(),
        subject: format!("Postdesk test mail ✓ {where_}"),
        body,
        utf8_headers: server.utf8_headers,
    }
}

/// Graph `sendMail`: the test mail as JSON, a given message as base64 MIME; 202 = accepted.
async fn graph_send(
    m: &oauth::M365,
    token: &Secret,
    mailbox: &str,
    envelope: &Envelope,
    draft: Option<&Draft>,
    message: &[u8],
    rec: &mut Recorder<'_>,
) -> Result<String, Failure> {
    use base64::Engine;
    rec.start(Stage::Graph);
    let url = m.send_mail_url(mailbox);
    let (content_type, body) = match draft {
        Some(d) => ("application/json", graph_json(d).to_string().into_bytes()),
        None => ("text/plain", base64::engine::general_purpose::STANDARD.encode(message).into_bytes()),
    };
    let bearer = zeroize::Zeroizing::new(format!("Bearer {}", token.expose()));
    let proxy = m.proxy_for(&url).map_err(|e| rec.fail_at(Stage::Graph, FailureKind::Config, e))?;
    let resp = match crate::http::send("POST", &url, &[("authorization", &bearer), ("accept", "application/json")], Some((content_type, body)), oauth::HTTP_TIMEOUT, proxy.as_ref()).await {
        Ok(r) => r,
        Err(e) => return Err(rec.fail_at(Stage::Graph, e.kind, e.message)),
    };
    if resp.status == 202 {
        let what = if draft.is_some() { "JSON message" } else { "MIME message" };
        rec.finish(true, format!("POST {url}: 202 Accepted ({what}, {} recipient(s))", envelope.to.len()));
        return Ok(format!("accepted by Microsoft Graph for {mailbox}"));
    }
    let v: serde_json::Value = serde_json::from_slice(&resp.body).unwrap_or_default();
    let code = v["error"]["code"].as_str().unwrap_or("");
    let text = v["error"]["message"].as_str().map(String::from).unwrap_or_else(|| resp.text().chars().take(200).collect());
    let reason = match resp.status {
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        _ => "",
    };
    let kind = if matches!(resp.status, 401 | 403) { FailureKind::Auth } else { FailureKind::Rejected };
    Err(rec.fail_at(Stage::Graph, kind, format!("Graph sendMail answered {} {reason}: {code}: {text}", resp.status)))
}

/// A given message as Graph must get it. Graph sends a MIME message to the To, Cc and Bcc of
/// its headers, while the Do-Not-Email list and the daily limit looked at this mail's
/// recipients: so every header recipient must be one of them (else the mail is refused), and
/// the recipients that To and Cc do not show (the Bcc that `send -t` took out, extra
/// recipients given as arguments) go into one Bcc header, which Graph turns into hidden
/// recipients. Graph then mails exactly this mail's recipients.
fn graph_mime(message: Vec<u8>, to: &[String]) -> Result<Vec<u8>, String> {
    use crate::message::recipients_from_headers;
    let lower = |a: &String| a.to_lowercase();
    let recipients: std::collections::BTreeSet<String> = to.iter().map(lower).collect();
    let (in_headers, without_bcc) = recipients_from_headers(&message)?;
    let mut stray: Vec<&String> = in_headers.iter().filter(|a| !recipients.contains(&lower(a))).collect();
    stray.dedup();
    if !stray.is_empty() {
        let names = stray.iter().map(|a| a.as_str()).collect::<Vec<_>>().join(", ");
        return Err(format!(
            "the message's To/Cc/Bcc headers name {names}, not a recipient of this mail: Microsoft Graph would send it there too, unchecked by the Do-Not-Email list and the daily limit; give the same recipients as the headers (`send -t` takes them from the headers)"
        ));
    }
    let (shown, _) = recipients_from_headers(&without_bcc)?;
    let had_bcc = shown.len() != in_headers.len();
    let shown: std::collections::BTreeSet<String> = shown.iter().map(lower).collect();
    let mut hidden: Vec<&str> = Vec::new();
    for a in to {
        if !shown.contains(&lower(a)) && !hidden.iter().any(|h| h.eq_ignore_ascii_case(a)) {
            hidden.push(a);
        }
    }
    let base = if had_bcc { without_bcc } else { message };
    if hidden.is_empty() {
        return Ok(base);
    }
    // The new header takes the line end the message uses.
    let eol = match base.iter().position(|&b| b == b'\n') {
        Some(i) if i > 0 && base[i - 1] == b'\r' => "\r\n",
        Some(_) => "\n",
        None => "\r\n",
    };
    let mut out = format!("Bcc: {}{eol}", hidden.join(&format!(",{eol} "))).into_bytes();
    out.extend_from_slice(&base);
    Ok(out)
}

/// The Graph `message` resource for a test mail.
fn graph_json(d: &Draft) -> serde_json::Value {
    let addr = |m: &Mailbox| match &m.name {
        Some(n) => serde_json::json!({"emailAddress": {"address": m.address, "name": n}}),
        None => serde_json::json!({"emailAddress": {"address": m.address}}),
    };
    let to: Vec<_> = d.to.iter().map(|t| serde_json::json!({"emailAddress": {"address": t}})).collect();
    let mut message = serde_json::json!({
        "subject": d.subject,
        "body": {"contentType": "Text", "content": d.body},
        "from": addr(&d.from),
        "toRecipients": to,
    });
    if let Some(r) = &d.reply_to {
        message["replyTo"] = serde_json::json!([addr(r)]);
    }
    serde_json::json!({"message": message, "saveToSentItems": false})
}

/// Hands the message to a sendmail-compatible program (`-i -f FROM -- RCPT…`; `-f <>` for
/// the null sender), byte for byte but for CRLF line ends, which become LF.
async fn sendmail(server: &Server, envelope: &Envelope, message: &[u8], rec: &mut Recorder<'_>) -> Result<String, Failure> {
    use tokio::io::AsyncWriteExt;
    rec.start(Stage::Data);
    let fail = |rec: &mut Recorder<'_>, kind: FailureKind, e: String| rec.fail_at(Stage::Data, kind, e);
    let mut child = match tokio::process::Command::new(&server.sendmail_path)
        .args(["-i", "-f", if envelope.from.is_empty() { "<>" } else { &envelope.from }, "--"])
        .args(&envelope.to)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
    {
        Ok(c) => c,
        Err(e) => return Err(fail(rec, FailureKind::Config, format!("cannot run {}: {e}", server.sendmail_path))),
    };
    // sendmail takes local line ends.
    let text = crate::message::crlf_to_lf(message);
    let mut stdin = child.stdin.take().expect("piped");
    let run = async {
        stdin.write_all(&text).await?;
        drop(stdin);
        child.wait_with_output().await
    };
    match tokio::time::timeout(server.timeout, run).await {
        Err(_) => Err(fail(rec, FailureKind::Timeout, format!("{} did not finish within {} s", server.sendmail_path, server.timeout.as_secs()))),
        Ok(Err(e)) => Err(fail(rec, FailureKind::Io, format!("{}: {e}", server.sendmail_path))),
        Ok(Ok(out)) if out.status.success() => {
            rec.finish(true, format!("{} bytes handed to {}", message.len(), server.sendmail_path));
            Ok(format!("accepted by {}", server.sendmail_path))
        }
        Ok(Ok(out)) => {
            let err = String::from_utf8_lossy(&out.stderr).lines().take(3).collect::<Vec<_>>().join(" ");
            Err(fail(rec, FailureKind::Rejected, format!("{} exited with {}: {err}", server.sendmail_path, out.status)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A keychain that holds nothing and stores nothing.
    struct Empty;
    impl Vault for Empty {
        fn get(&self, _: &str) -> Result<Option<Secret>, crate::error::Error> {
            Ok(None)
        }
        fn set(&self, _: &str, _: &Secret) -> Result<(), crate::error::Error> {
            Err(crate::error::invalid("keychain", "read-only"))
        }
        fn clear(&self, _: &str) -> Result<(), crate::error::Error> {
            Err(crate::error::invalid("keychain", "read-only"))
        }
    }

    /// A keychain that cannot be read.
    struct Locked;
    impl Vault for Locked {
        fn get(&self, _: &str) -> Result<Option<Secret>, crate::error::Error> {
            Err(crate::secrets::SecretError::Unavailable("locked".into()).into())
        }
        fn set(&self, _: &str, _: &Secret) -> Result<(), crate::error::Error> {
            Err(crate::secrets::SecretError::Unavailable("locked".into()).into())
        }
        fn clear(&self, _: &str) -> Result<(), crate::error::Error> {
            Err(crate::secrets::SecretError::Unavailable("locked".into()).into())
        }
    }

    fn request() -> Request {
        Request { to: vec!["b@example.test".into()], ..Default::default() }
    }

    /// Global SMTP on a loopback port.
    fn smtp_at(port: u16) -> Config {
        let mut config = Config::default();
        config.global.enabled = Some(true);
        config.global.host = Some("127.0.0.1".into());
        config.global.port = Some(port);
        config.global.sender.address = Some("a@example.test".into());
        config
    }

    #[test]
    fn a_cancelled_send_carries_its_kind_and_the_running_stage() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let report = rt.block_on(async {
            // A server that accepts and never greets: the attempt waits in `banner`.
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let port = listener.local_addr().unwrap().port();
            let _server = tokio::spawn(async move {
                let (_stream, _) = listener.accept().await.unwrap();
                std::future::pending::<()>().await
            });
            let mut sink = |_| {};
            send(&smtp_at(port), &Empty, request(), &mut sink, tokio::time::sleep(std::time::Duration::from_millis(300))).await
        });
        assert!(!report.ok);
        assert_eq!((report.failed_stage, report.failure_kind), (Some(Stage::Banner), Some(FailureKind::Cancelled)), "{report:?}");
        assert_eq!(report.error.as_deref(), Some("Cancelled by the user"));
        assert_eq!(report.steps.last().map(|s| (s.stage, s.ok)), Some((Stage::Banner, false)));
    }

    #[test]
    fn an_unreadable_keychain_is_its_own_kind_and_a_bad_setting_is_config() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let mut config = smtp_at(2525);
        config.global.auth = Some(AuthMethod::Password);
        config.global.username = Some("me".into());
        let mut sink = |_| {};
        let report = rt.block_on(send(&config, &Locked, request(), &mut sink, std::future::pending()));
        assert_eq!((report.failed_stage, report.failure_kind), (Some(Stage::Config), Some(FailureKind::KeychainUnavailable)), "{report:?}");
        assert!(report.error.unwrap().starts_with("the OS keychain is not available: the OS keychain is not available (locked)"));
        let report = rt.block_on(send(&config, &Empty, request(), &mut sink, std::future::pending()));
        assert_eq!((report.failed_stage, report.failure_kind), (Some(Stage::Config), Some(FailureKind::Config)), "{report:?}");
        assert_eq!(report.error.as_deref(), Some("global.password: no password is saved for this server"));
    }

    fn to(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn graph_mime_puts_hidden_recipients_in_one_bcc_header() {
        // Header and envelope agree (case aside): the message is unchanged.
        let m = b"To: Carol <Carol@example.test>\r\nSubject: x\r\n\r\nbody\r\n".to_vec();
        assert_eq!(graph_mime(m.clone(), &to(&["carol@example.test"])).unwrap(), m);
        // A recipient the headers do not show goes into a Bcc header, in the message's line ends.
        let m = b"To: carol@example.test\nSubject: x\n\nbody\n".to_vec();
        let out = String::from_utf8(graph_mime(m, &to(&["carol@example.test", "dan@example.test"])).unwrap()).unwrap();
        assert_eq!(out, "Bcc: dan@example.test\nTo: carol@example.test\nSubject: x\n\nbody\n");
        // An existing Bcc header is replaced by the one with every hidden recipient.
        let m = b"To: carol@example.test\r\nBcc: eve@example.test\r\nSubject: x\r\n\r\nbody\r\n".to_vec();
        let out = String::from_utf8(graph_mime(m, &to(&["carol@example.test", "eve@example.test", "dan@example.test"])).unwrap()).unwrap();
        assert_eq!(out.matches("Bcc:").count(), 1, "{out}");
        assert!(out.starts_with("Bcc: eve@example.test,\r\n dan@example.test\r\n"), "{out}");
    }

    #[test]
    fn graph_mime_refuses_header_recipients_outside_the_envelope() {
        let m = b"To: carol@example.test\r\nCc: mallory@example.test\r\n\r\nbody\r\n".to_vec();
        let err = graph_mime(m, &to(&["carol@example.test"])).unwrap_err();
        assert!(err.contains("mallory@example.test") && !err.contains("carol"), "{err}");
        let m = b"To: carol@example.test\r\nBcc: mallory@example.test\r\n\r\nbody\r\n".to_vec();
        assert!(graph_mime(m, &to(&["carol@example.test"])).is_err());
    }
}
