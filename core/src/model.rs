//! The configuration document: what is saved, exported and imported.
//!
//! Every setting is optional in the document: an absent value means "the default" for the
//! global server and "inherited from the global server" for a client or route. The concrete
//! values a transport uses come from [`crate::resolve`], never from reading these fields
//! directly. Secrets are not here: they live in the OS keychain (see [`crate::secrets`]).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Version written by this build. Older documents are migrated on load (see [`crate::store`]).
pub const CURRENT_VERSION: u32 = 1;

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, TS, JsonSchema)]
#[ts(export)]
pub struct Config {
    pub version: u32,
    #[serde(default, skip_serializing_if = "ServerSettings::is_empty")]
    pub global: ServerSettings,
    #[serde(default, skip_serializing_if = "SupportSettings::is_empty")]
    pub support: SupportSettings,
    /// Client-specific servers, by client ID. Unset keys inherit from `global`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub clients: BTreeMap<String, ClientSettings>,
    /// From-address connectors, by route name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub routes: BTreeMap<String, RouteSettings>,
    /// Receive-before-send: a mailbox to log in to (IMAP or POP3) before sending.
    #[serde(default, skip_serializing_if = "ReceiverSettings::is_empty")]
    pub receiver: ReceiverSettings,
    /// Invitation templates by user type (`power`, `standard`, …); unset texts are the
    /// built-in defaults (see [`crate::templates`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub templates: BTreeMap<String, TemplateSettings>,
    /// The daily limit and how the Do-Not-Email list applies.
    #[serde(default, skip_serializing_if = "LimitSettings::is_empty")]
    pub limits: LimitSettings,
    /// The Do-Not-Email list: `user@domain` or `*@domain`, normalized (see [`crate::dne`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dne: Vec<String>,
    /// How `postdesk send` (the sendmail-compatible input) reads what it is given.
    #[serde(default, skip_serializing_if = "SendSettings::is_empty")]
    pub send: SendSettings,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            version: CURRENT_VERSION,
            global: ServerSettings::default(),
            support: SupportSettings::default(),
            clients: BTreeMap::new(),
            routes: BTreeMap::new(),
            receiver: ReceiverSettings::default(),
            templates: BTreeMap::new(),
            limits: LimitSettings::default(),
            dne: Vec::new(),
            send: SendSettings::default(),
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default, TS, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum EmailType {
    #[default]
    Smtp,
    Sendmail,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default, TS, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum Security {
    #[default]
    None,
    Starttls,
    Tls,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default, TS, JsonSchema)]
#[ts(export)]
pub enum AuthMethod {
    #[default]
    #[serde(rename = "none")]
    None,
    #[serde(rename = "password")]
    Password,
    /// Microsoft 365 over SMTP with an OAuth access token (XOAUTH2).
    #[serde(rename = "m365-smtp")]
    M365Smtp,
    /// Microsoft 365 through the Graph `sendMail` API.
    #[serde(rename = "m365-graph")]
    M365Graph,
}

impl AuthMethod {
    pub fn is_m365(self) -> bool {
        matches!(self, AuthMethod::M365Smtp | AuthMethod::M365Graph)
    }
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default, TS, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum M365Flow {
    /// An administrator signs in once; a refresh token is kept in the keychain.
    #[default]
    Delegated,
    /// Client credentials (application permissions), no user sign-in.
    App,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default, TS, JsonSchema)]
#[ts(export)]
pub enum M365Cloud {
    #[default]
    #[serde(rename = "global")]
    Global,
    #[serde(rename = "usgov")]
    UsGov,
    #[serde(rename = "usgov-dod")]
    UsGovDod,
    #[serde(rename = "china")]
    China,
}

/// A mailbox as typed by the admin: address plus optional display name.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default, TS, JsonSchema)]
#[serde(default, deny_unknown_fields)]
#[ts(export)]
pub struct MailboxSettings {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub name: Option<String>,
    /// Client sender only: further addresses the client may send from, one per line.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub alternatives: Option<String>,
    /// Client sender only: send with the system's (global) address and the user's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub conceal: Option<bool>,
}

impl MailboxSettings {
    pub fn is_empty(&self) -> bool {
        *self == MailboxSettings::default()
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default, TS, JsonSchema)]
#[serde(default, deny_unknown_fields)]
#[ts(export)]
pub struct M365Settings {
    /// Directory (tenant) ID: a GUID or a verified domain.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub tenant: Option<String>,
    /// Application (client) ID: a GUID.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub flow: Option<M365Flow>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub cloud: Option<M365Cloud>,
    /// Overrides the cloud's login host, e.g. `https://login.microsoftonline.com`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub authority: Option<String>,
    /// Overrides the cloud's Graph host, e.g. `https://graph.microsoft.com`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub graph_url: Option<String>,
    /// Lets `authority` and `graph_url` name hosts outside Microsoft's clouds (and loopback).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub allow_custom_endpoints: Option<bool>,
    /// Client secret expiry as shown in the Entra portal, `YYYY-MM-DD`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub secret_expires: Option<String>,
}

impl M365Settings {
    pub fn is_empty(&self) -> bool {
        *self == M365Settings::default()
    }
}

/// The settings of one mail server. Used for the global server, a client's own server and a
/// From-address route alike, so every layer has the same keys.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default, TS, JsonSchema)]
#[serde(default)]
#[ts(export)]
pub struct ServerSettings {
    /// Global: "Use mail server" (off ⇒ no mail at all). Client or route: use its own server.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub enabled: Option<bool>,
    /// SMTP (default) or a local sendmail program.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub email_type: Option<EmailType>,
    /// The sendmail-compatible program (default `/usr/sbin/sendmail`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub sendmail_path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub host: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub security: Option<Security>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub auth: Option<AuthMethod>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub username: Option<String>,
    #[serde(skip_serializing_if = "MailboxSettings::is_empty")]
    pub sender: MailboxSettings,
    #[serde(skip_serializing_if = "MailboxSettings::is_empty")]
    pub reply_to: MailboxSettings,
    /// Raw UTF-8 headers and internationalized addresses (RFC 6531/6532).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub utf8_headers: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub timeout_secs: Option<u32>,
    /// How long to wait for the reply to the end of a message (RFC 5321 §4.5.3.2.6).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub data_timeout_secs: Option<u32>,
    /// Extra CA certificate (PEM) trusted for this server, besides the OS trust store.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub ca_file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub tls_verify: Option<bool>,
    #[serde(skip_serializing_if = "M365Settings::is_empty")]
    pub m365: M365Settings,
}

impl ServerSettings {
    pub fn is_empty(&self) -> bool {
        *self == ServerSettings::default()
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default, TS, JsonSchema)]
#[serde(default, deny_unknown_fields)]
#[ts(export)]
pub struct SupportSettings {
    /// Where support requests go.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub address: Option<String>,
    /// Clients may set their own support address.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub allow_client_address: Option<bool>,
    /// Attach system information to support requests.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub attach_system_info: Option<bool>,
}

impl SupportSettings {
    pub fn is_empty(&self) -> bool {
        *self == SupportSettings::default()
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default, TS, JsonSchema)]
#[serde(default, deny_unknown_fields)]
#[ts(export)]
pub struct ClientSupport {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub address: Option<String>,
}

/// A client (tenant of the admin's organisation) with its optional own server.
// `Deserialize` is hand-written in `model_de` (same JSON, without serde's slow flatten).
#[derive(Serialize, Clone, Debug, PartialEq, Eq, Default, TS, JsonSchema)]
#[serde(default)]
#[ts(export)]
pub struct ClientSettings {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "ClientSupport::is_empty")]
    pub support: ClientSupport,
    /// This client's own invitation templates by user type; an unset text is the global
    /// template's (see [`crate::templates::effective_for`]).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    #[ts(as = "Option<BTreeMap<String, TemplateSettings>>", optional)]
    pub templates: BTreeMap<String, TemplateSettings>,
    #[serde(flatten)]
    pub server: ServerSettings,
}

impl ClientSupport {
    pub fn is_empty(&self) -> bool {
        self.address.is_none()
    }
}

/// A connector chosen by the From address of a mail.
// `Deserialize` is hand-written in `model_de` (same JSON, without serde's slow flatten).
#[derive(Serialize, Clone, Debug, PartialEq, Eq, Default, TS, JsonSchema)]
#[serde(default)]
#[ts(export)]
pub struct RouteSettings {
    /// An exact address, `*@example.com`, or `*@*.example.com` (any subdomain).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub from: Option<String>,
    /// Among equally specific matches the lowest order wins (default 100), then the name.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub order: Option<u32>,
    #[serde(flatten)]
    pub server: ServerSettings,
}

/// How Postdesk logs in to the receiver mailbox.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default, TS, JsonSchema)]
#[ts(export)]
pub enum ReceiverProtocol {
    /// IMAP without TLS (port 143).
    #[serde(rename = "imap")]
    Imap,
    /// IMAP, upgraded with STARTTLS before logging in (port 143).
    #[serde(rename = "imap-starttls")]
    ImapStarttls,
    /// IMAP over implicit TLS (port 993).
    #[default]
    #[serde(rename = "imaps")]
    Imaps,
    /// POP3 without TLS (port 110).
    #[serde(rename = "pop3")]
    Pop3,
    /// POP3, upgraded with STLS before logging in (port 110).
    #[serde(rename = "pop3-stls")]
    Pop3Stls,
    /// POP3 over implicit TLS (port 995).
    #[serde(rename = "pop3s")]
    Pop3s,
}

impl ReceiverProtocol {
    pub const ALL: [ReceiverProtocol; 6] = [
        ReceiverProtocol::Imap,
        ReceiverProtocol::ImapStarttls,
        ReceiverProtocol::Imaps,
        ReceiverProtocol::Pop3,
        ReceiverProtocol::Pop3Stls,
        ReceiverProtocol::Pop3s,
    ];

    /// The protocol's well-known port.
    pub fn default_port(self) -> u16 {
        match self {
            ReceiverProtocol::Imap | ReceiverProtocol::ImapStarttls => 143,
            ReceiverProtocol::Imaps => 993,
            ReceiverProtocol::Pop3 | ReceiverProtocol::Pop3Stls => 110,
            ReceiverProtocol::Pop3s => 995,
        }
    }

    pub fn is_imap(self) -> bool {
        matches!(self, ReceiverProtocol::Imap | ReceiverProtocol::ImapStarttls | ReceiverProtocol::Imaps)
    }

    /// The key's text form (`imap-starttls`).
    pub fn as_str(self) -> &'static str {
        match self {
            ReceiverProtocol::Imap => "imap",
            ReceiverProtocol::ImapStarttls => "imap-starttls",
            ReceiverProtocol::Imaps => "imaps",
            ReceiverProtocol::Pop3 => "pop3",
            ReceiverProtocol::Pop3Stls => "pop3-stls",
            ReceiverProtocol::Pop3s => "pop3s",
        }
    }

    pub fn parse(text: &str) -> Option<ReceiverProtocol> {
        ReceiverProtocol::ALL.into_iter().find(|p| p.as_str() == text)
    }
}

/// Receive-before-send (`receiver.*`): some servers take mail only from a client that has
/// just logged in to a mailbox. The password is a keychain secret (`receiver.password`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default, TS, JsonSchema)]
#[serde(default, deny_unknown_fields)]
#[ts(export)]
pub struct ReceiverSettings {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub protocol: Option<ReceiverProtocol>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub host: Option<String>,
    /// Unset: the protocol's port (143, 993, 110, 995).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub username: Option<String>,
    /// Extra CA certificate (PEM) trusted for this server, besides the OS trust store.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub ca_file: Option<String>,
    /// Log in before every send.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub before_send: Option<bool>,
}

impl ReceiverSettings {
    pub fn is_empty(&self) -> bool {
        *self == ReceiverSettings::default()
    }
}

/// One invitation template: plain-text subject and body with `{{placeholders}}`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default, TS, JsonSchema)]
#[serde(default, deny_unknown_fields)]
#[ts(export)]
pub struct TemplateSettings {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub subject: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub body: Option<String>,
}

impl TemplateSettings {
    pub fn is_empty(&self) -> bool {
        self.subject.is_none() && self.body.is_none()
    }
}

/// When the Do-Not-Email list is not applied.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default, TS, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum IgnoreDne {
    /// The list always applies.
    #[default]
    None,
    /// Mails marked priority (`send --priority`) may go to listed addresses.
    Priority,
    /// The list is never applied.
    All,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default, TS, JsonSchema)]
#[serde(default, deny_unknown_fields)]
#[ts(export)]
pub struct LimitSettings {
    /// At most this many mails in any 24 hours; 0 = no limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub max_per_day: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub ignore_dne_for: Option<IgnoreDne>,
}

impl LimitSettings {
    pub fn is_empty(&self) -> bool {
        *self == LimitSettings::default()
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default, TS, JsonSchema)]
#[serde(default, deny_unknown_fields)]
#[ts(export)]
pub struct SendSettings {
    /// The domain a bare local name (`root`, as cron passes it) gets, as sendmail's
    /// masquerading gives it; unset: the domain of `global.sender.address`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub local_domain: Option<String>,
}

impl SendSettings {
    pub fn is_empty(&self) -> bool {
        *self == SendSettings::default()
    }
}
