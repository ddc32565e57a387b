//! The Support request: a subject and a message sent to the support address in force (the
//! client's own when `support.allow_client_address` is on and it has one), through the route
//! the resolver picks for that client, with the system information report attached when
//! `support.attach_system_info` is on. The preview is the exact message that leaves the
//! machine; sending re-renders it and refuses when the settings changed in between.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::diagnosis::ServerSummary;
use crate::keys::{self, Key};
use crate::message::{render, Draft, Mailbox};
use crate::model::Config;
use crate::resolve::{resolve_route, Route};

/// What the admin typed.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, TS)]
#[ts(export)]
pub struct SupportDraft {
    pub client: Option<String>,
    pub subject: String,
    pub message: String,
}

/// Exactly what a support request sends, and where.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, TS)]
#[ts(export)]
pub struct SupportPreview {
    pub draft: SupportDraft,
    pub to: String,
    /// Why this address (global or the client's own).
    pub to_reason: String,
    pub from: String,
    pub server: ServerSummary,
    pub route_reason: String,
    /// The attached system information report, when attached.
    pub attachment: Option<String>,
    /// The complete RFC 5322 message, as it leaves the machine.
    pub raw: String,
}

/// Facts about this installation for the system information report.
pub struct SystemFacts {
    pub app_version: String,
    pub os: String,
}

impl SystemFacts {
    pub fn of_this_machine() -> SystemFacts {
        let pretty = std::fs::read_to_string("/etc/os-release").ok().and_then(|t| {
            t.lines().find_map(|l| l.strip_prefix("PRETTY_NAME=").map(|v| v.trim_matches('"').to_string()))
        });
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").ok().map(|k| k.trim().to_string());
        let os = [pretty, Some(format!("{} {}", std::env::consts::OS, std::env::consts::ARCH)), kernel.map(|k| format!("kernel {k}"))]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(", ");
        SystemFacts { app_version: env!("CARGO_PKG_VERSION").into(), os }
    }
}

pub const ATTACHMENT_NAME: &str = "postdesk-system-info.txt";
const MAX_SUBJECT: usize = 200;
const MAX_MESSAGE: usize = 100_000;

/// The system information report: app version, OS, and the effective settings of the global
/// server, support, the client concerned and the routes. Secrets are never in the document;
/// their keys are listed as removed.
pub fn system_report(config: &Config, client: Option<&str>, facts: &SystemFacts) -> String {
    let mut out = format!("Postdesk system information\nApp version: {}\nOS: {}\n\nEffective settings (secrets removed):\n", facts.app_version, facts.os);
    let wanted = |k: &Key| match &k.scope {
        keys::Scope::Global | keys::Scope::Support | keys::Scope::Route(_) | keys::Scope::Receiver | keys::Scope::Limits | keys::Scope::Send | keys::Scope::Proxy => true,
        // Invitation texts say nothing about how mail is sent.
        keys::Scope::Template(_) | keys::Scope::ClientTemplate(..) => false,
        keys::Scope::Client(id) => Some(id.as_str()) == client,
    };
    for key in keys::all_keys(config).iter().filter(|k| wanted(k)) {
        let line = if key.is_secret() {
            format!("{} = <secret removed>\n", key.name())
        } else {
            match key.effective(config) {
                Some(v) => format!("{} = {}\n", key.name(), v.replace('\n', ", ")),
                None => continue,
            }
        };
        out.push_str(&line);
    }
    out
}

/// Why a support request cannot be prepared. Each names the key (or draft field) at fault;
/// the settings' own refusals (sender identity, route) come with their text.
#[derive(Debug, thiserror::Error)]
pub enum SupportError {
    #[error("client.{0}: no such client")]
    NoSuchClient(String),
    #[error("support.address: not set: there is no support address to send to")]
    NoAddress,
    #[error("subject: must be one line of 1 to {MAX_SUBJECT} characters")]
    SubjectNotOneLine,
    #[error("subject: must not contain control characters")]
    SubjectControl,
    #[error("message: must not be empty (at most {MAX_MESSAGE} bytes)")]
    MessageEmpty,
    #[error("message: must not contain control characters (line breaks and tabs are fine)")]
    MessageControl,
    /// The sender identity of the client refuses (its text names the key).
    #[error("{0}")]
    Identity(String),
    /// No mail would be sent (the route's reason, e.g. the global server is off).
    #[error("{0}")]
    NoRoute(String),
    #[error("{prefix}.sender.address: required to send mail")]
    NoSender { prefix: String },
    /// The message could not be rewritten for a concealed sender.
    #[error("{0}")]
    Rewrite(String),
}

impl SupportError {
    /// As a problem on the key it names (`mail` when it names none).
    pub fn into_error(self) -> crate::Error {
        match self {
            SupportError::NoSuchClient(id) => crate::error::invalid(&format!("client.{id}"), "no such client"),
            SupportError::NoSender { prefix } => crate::error::invalid(&format!("{prefix}.sender.address"), "required to send mail"),
            other => crate::error::keyed(&other.to_string()),
        }
    }
}

/// Where a support request of `client` goes, and why.
pub fn support_address(config: &Config, client: Option<&str>) -> Result<(String, String), SupportError> {
    if let Some(id) = client {
        let c = config.clients.get(id).ok_or_else(|| SupportError::NoSuchClient(id.into()))?;
        if let Some(a) = &c.support.address {
            if config.support.allow_client_address == Some(true) {
                return Ok((a.clone(), format!("client {id}'s own support address (support.allow_client_address is on)")));
            }
        }
    }
    let a = config.support.address.clone().ok_or(SupportError::NoAddress)?;
    Ok((a, "the support address (support.address)".into()))
}

/// Builds the support request exactly as it would leave at `now`.
pub fn prepare(config: &Config, draft: &SupportDraft, facts: &SystemFacts, now: time::OffsetDateTime) -> Result<SupportPreview, SupportError> {
    let subject = draft.subject.trim();
    if subject.is_empty() || subject.contains(['\r', '\n']) || subject.chars().count() > MAX_SUBJECT {
        return Err(SupportError::SubjectNotOneLine);
    }
    // The subject becomes a header; both are shown in a terminal by `--preview`.
    if subject.chars().any(char::is_control) {
        return Err(SupportError::SubjectControl);
    }
    if draft.message.trim().is_empty() || draft.message.len() > MAX_MESSAGE {
        return Err(SupportError::MessageEmpty);
    }
    if crate::validate::has_control_in_text(&draft.message) {
        return Err(SupportError::MessageControl);
    }
    let client = draft.client.as_deref();
    let (to, to_reason) = support_address(config, client)?;
    let identity = crate::identity::sender_identity(config, client, None).map_err(SupportError::Identity)?;
    let (route, route_reason) = resolve_route(config, client, identity.from.as_deref()).map_err(|e| SupportError::NoSuchClient(e.0))?;
    let Route::Send(server) = route else { return Err(SupportError::NoRoute(route_reason)) };
    let address = identity
        .from
        .clone()
        .or_else(|| server.sender.as_ref().map(|s| s.address.clone()))
        .ok_or_else(|| SupportError::NoSender { prefix: server.prefix.clone() })?;
    let from = Mailbox { name: identity.from_name.clone().or_else(|| server.sender.as_ref().and_then(|s| s.name.clone())), address };
    let reply_to = identity.reply_to.clone().or_else(|| server.reply_to.clone());
    let text = render(
        &Draft { from: from.clone(), reply_to: reply_to.clone(), to: vec![to.clone()], subject: subject.into(), body: draft.message.clone(), utf8_headers: server.utf8_headers },
        now,
    );
    let attachment = (config.support.attach_system_info == Some(true)).then(|| system_report(config, client, facts));
    let mut raw = match &attachment {
        Some(report) => with_attachment(&text, ATTACHMENT_NAME, report),
        None => text,
    };
    if identity.reply_to.is_some() {
        // The send path rewrites a concealed sender's message; doing it here too keeps the
        // preview byte for byte what leaves.
        raw = crate::identity::rewrite_sender(&raw, &from, reply_to.as_ref(), server.utf8_headers).map_err(SupportError::Rewrite)?;
    }
    Ok(SupportPreview {
        draft: draft.clone(),
        to,
        to_reason,
        from: from.address,
        server: server.summary(),
        route_reason,
        attachment,
        raw: String::from_utf8(raw).expect("rendered messages are UTF-8"),
    })
}

/// Turns a rendered text/plain message into multipart/mixed with one text attachment.
fn with_attachment(message: &[u8], name: &str, content: &str) -> Vec<u8> {
    let text = String::from_utf8_lossy(message);
    let (head, body) = text.split_once("\r\n\r\n").expect("rendered messages have a header");
    let (part_headers, top): (Vec<&str>, Vec<&str>) =
        head.split("\r\n").partition(|l| l.starts_with("Content-Type:") || l.starts_with("Content-Transfer-Encoding:"));
    let boundary = format!("=_postdesk_{:016x}", {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (body, content).hash(&mut h);
        h.finish()
    });
    let encoded = B64.encode(content.as_bytes());
    let lines: Vec<&str> = encoded.as_bytes().chunks(76).map(|c| std::str::from_utf8(c).expect("ascii")).collect();
    format!(
        "{top}\r\nContent-Type: multipart/mixed; boundary=\"{boundary}\"\r\n\r\n--{boundary}\r\n{parts}\r\n\r\n{body}\r\n--{boundary}\r\n\
         Content-Type: text/plain; charset=utf-8; name=\"{name}\"\r\nContent-Disposition: attachment; filename=\"{name}\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{b64}\r\n--{boundary}--\r\n",
        top = top.join("\r\n"),
        parts = part_headers.join("\r\n"),
        body = body.trim_end_matches("\r\n"),
        b64 = lines.join("\r\n"),
    )
    .into_bytes()
}

impl crate::Postdesk {
    /// Exactly what a support request would send, and to whom, through which server.
    pub fn support_preview(&self, draft: &SupportDraft) -> Result<SupportPreview, crate::Error> {
        let config = self.load()?;
        prepare(&config, draft, &SystemFacts::of_this_machine(), time::OffsetDateTime::now_utc()).map_err(SupportError::into_error)
    }

    /// Sends the previewed request: the very bytes of `preview.raw`, after checking that the
    /// settings still produce the same message (else the admin must look at it again).
    pub async fn send_support(
        &self,
        preview: &SupportPreview,
        progress: &mut (dyn FnMut(crate::diagnosis::Progress) + Send),
        cancel: impl std::future::Future<Output = ()>,
    ) -> crate::diagnosis::Report {
        let config = match self.load() {
            Ok(c) => c,
            Err(e) => return crate::mail::config_failure(e.to_string(), progress),
        };
        match prepare(&config, &preview.draft, &SystemFacts::of_this_machine(), time::OffsetDateTime::now_utc()) {
            Ok(now) if without_date_and_id(&now.raw) == without_date_and_id(&preview.raw) && now.to == preview.to => {}
            Ok(_) => return crate::mail::config_failure("the settings changed since the preview: preview the support request again".into(), progress),
            Err(e) => return crate::mail::config_failure(e.to_string(), progress),
        }
        let request = crate::mail::Request {
            to: vec![preview.to.clone()],
            client: preview.draft.client.clone(),
            message: Some(preview.raw.clone().into_bytes()),
            sent_log: Some(self.sent_log()),
            ..Default::default()
        };
        crate::mail::send(&config, self, request, progress, cancel).await
    }
}


/// The preview with its Date and Message-ID lines blanked, to compare two renderings.
pub fn without_date_and_id(raw: &str) -> String {
    raw.split("\r\n").filter(|l| !l.starts_with("Date: ") && !l.starts_with("Message-ID: ")).collect::<Vec<_>>().join("\r\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::app::test_config as config;

    fn facts() -> SystemFacts {
        SystemFacts { app_version: "9.9.9".into(), os: "TestOS 1".into() }
    }

    fn setup() -> Config {
        config(&[
            ("global.enabled", "true"),
            ("global.host", "smtp.example.test"),
            ("global.auth", "password"),
            ("global.username", "mailer"),
            ("global.sender.address", "it@example.test"),
            ("support.address", "help@vendor.test"),
            ("support.attach_system_info", "true"),
            ("client.acme.name", "Acme"),
            ("client.acme.support.address", "desk@acme.test"),
        ])
    }

    fn draft(client: Option<&str>) -> SupportDraft {
        SupportDraft { client: client.map(String::from), subject: "Mail does not work".into(), message: "Please help.\nThanks".into() }
    }

    #[test]
    fn the_client_address_is_used_only_when_allowed() {
        let mut c = setup();
        assert_eq!(support_address(&c, Some("acme")).unwrap().0, "help@vendor.test");
        c = crate::app::apply_edits(&c, &[("support.allow_client_address".to_string(), "true".to_string())].into()).0;
        assert_eq!(support_address(&c, Some("acme")).unwrap().0, "desk@acme.test");
        assert_eq!(support_address(&c, None).unwrap().0, "help@vendor.test");
        c = crate::app::apply_edits(&c, &[("support.address".to_string(), "".to_string())].into()).0;
        assert!(support_address(&c, None).unwrap_err().to_string().starts_with("support.address: "));
    }

    #[test]
    fn the_preview_carries_the_attachment_and_no_secret_value() {
        let p = prepare(&setup(), &draft(Some("acme")), &facts(), time::OffsetDateTime::now_utc()).unwrap();
        assert_eq!(p.to, "help@vendor.test");
        assert_eq!(p.server.source, "global");
        let report = p.attachment.as_deref().unwrap();
        assert!(report.contains("App version: 9.9.9\nOS: TestOS 1\n"));
        assert!(report.contains("global.host = smtp.example.test\n"));
        assert!(report.contains("global.password = <secret removed>\n"));
        assert!(report.contains("client.acme.name = Acme\n"));
        assert!(p.raw.contains("Content-Type: multipart/mixed; boundary="));
        assert!(p.raw.contains(&format!("filename=\"{ATTACHMENT_NAME}\"")));
        assert!(p.raw.contains("To: help@vendor.test\r\n") && p.raw.contains("Subject: Mail does not work\r\n"));
        assert!(p.raw.contains(&B64.encode(report.as_bytes())[..60]));
        let mut off = setup();
        off = crate::app::apply_edits(&off, &[("support.attach_system_info".to_string(), "false".to_string())].into()).0;
        let p = prepare(&off, &draft(None), &facts(), time::OffsetDateTime::now_utc()).unwrap();
        assert!(p.attachment.is_none() && !p.raw.contains("multipart"));
    }

    #[test]
    fn global_off_sends_nothing_and_bad_input_is_named() {
        let mut c = setup();
        assert!(prepare(&c, &SupportDraft { subject: " ".into(), ..draft(None) }, &facts(), time::OffsetDateTime::now_utc()).unwrap_err().to_string().starts_with("subject: "));
        assert!(prepare(&c, &SupportDraft { message: "".into(), ..draft(None) }, &facts(), time::OffsetDateTime::now_utc()).unwrap_err().to_string().starts_with("message: "));
        c = crate::app::apply_edits(&c, &[("global.enabled".to_string(), "false".to_string())].into()).0;
        assert!(prepare(&c, &draft(None), &facts(), time::OffsetDateTime::now_utc()).unwrap_err().to_string().contains("global mail server is off"));
    }

    #[test]
    fn two_renderings_differ_only_in_date_and_message_id() {
        let a = prepare(&setup(), &draft(None), &facts(), time::OffsetDateTime::now_utc()).unwrap();
        let b = prepare(&setup(), &draft(None), &facts(), time::OffsetDateTime::now_utc() + time::Duration::seconds(5)).unwrap();
        assert_ne!(a.raw, b.raw);
        assert_eq!(without_date_and_id(&a.raw), without_date_and_id(&b.raw));
    }
}
