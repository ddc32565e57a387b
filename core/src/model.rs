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

use crate::settings::{Keychain, Kind, Settings};

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
    /// The HTTP proxy for Entra ID and Graph (see [`crate::proxy`]).
    #[serde(default, skip_serializing_if = "ProxySettings::is_empty")]
    pub proxy: ProxySettings,
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
            proxy: ProxySettings::default(),
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

impl EmailType {
    pub const CHOICES: &'static [&'static str] = &["smtp", "sendmail"];
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

impl Security {
    pub const CHOICES: &'static [&'static str] = &["none", "starttls", "tls"];
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
    pub const CHOICES: &'static [&'static str] = &["none", "password", "m365-smtp", "m365-graph"];

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

impl M365Flow {
    pub const CHOICES: &'static [&'static str] = &["delegated", "app"];
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

impl M365Cloud {
    pub const CHOICES: &'static [&'static str] = &["global", "usgov", "usgov-dod", "china"];
}

/// A mailbox as typed by the admin: address plus optional display name.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default, TS, JsonSchema, Settings)]
#[serde(default, deny_unknown_fields)]
#[ts(export)]
pub struct MailboxSettings {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    #[setting(kind = Kind::Email, label = "address")]
    pub address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    #[setting(kind = Kind::DisplayName, label = "name")]
    pub name: Option<String>,
    /// Client sender only: further addresses the client may send from, one per line.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    #[setting(kind = Kind::AddressList, client_only, label = "alternatives (addresses, one per line)")]
    pub alternatives: Option<String>,
    /// Client sender only: send with the system's (global) address and the user's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    #[setting(kind = Kind::Bool, client_only, default = false, label = "concealed (system address, user's name)")]
    pub conceal: Option<bool>,
}


#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default, TS, JsonSchema, Settings)]
#[serde(default, deny_unknown_fields)]
#[ts(export)]
pub struct M365Settings {
    /// Directory (tenant) ID: a GUID or a verified domain.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    #[setting(kind = Kind::Tenant, label = "Tenant ID")]
    pub tenant: Option<String>,
    /// Application (client) ID: a GUID.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    #[setting(kind = Kind::Guid, label = "Client ID")]
    pub client_id: Option<String>,
    /// In the OS keychain, never in the document (see [`crate::secrets`]).
    #[setting(secret, label = "Client secret")]
    #[serde(skip)]
    pub client_secret: Keychain,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    #[setting(kind = Kind::Enum(M365Flow::CHOICES), default = M365Flow::Delegated, label = "Sign-in flow")]
    pub flow: Option<M365Flow>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    #[setting(kind = Kind::Enum(M365Cloud::CHOICES), default = M365Cloud::Global, label = "Cloud")]
    pub cloud: Option<M365Cloud>,
    /// Overrides the cloud's login host, e.g. `https://login.microsoftonline.com`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    #[setting(kind = Kind::Url, label = "Login URL override")]
    pub authority: Option<String>,
    /// Overrides the cloud's Graph host, e.g. `https://graph.microsoft.com`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    #[setting(kind = Kind::Url, label = "Graph URL override")]
    pub graph_url: Option<String>,
    /// Lets `authority` and `graph_url` name hosts outside Microsoft's clouds (and loopback).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    #[setting(kind = Kind::Bool, default = false, label = "Allow login and Graph URLs outside Microsoft's clouds")]
    pub allow_custom_endpoints: Option<bool>,
    /// Client secret expiry as shown in the Entra portal, `YYYY-MM-DD`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    #[setting(kind = Kind::Date, label = "Client secret expires")]
    pub secret_expires: Option<String>,
}


/// The settings of one mail server. Used for the global server, a client's own server and a
/// From-address route alike, so every layer has the same keys.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default, TS, JsonSchema, Settings)]
#[serde(default)]
#[ts(export)]
pub struct ServerSettings {
    /// Global: "Use mail server" (off ⇒ no mail at all). Client or route: use its own server.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    #[setting(kind = Kind::Bool, default = false, own, label = "Use mail server")]
    pub enabled: Option<bool>,
    /// SMTP (default) or a local sendmail program.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    #[setting(kind = Kind::Enum(EmailType::CHOICES), default = EmailType::Smtp, label = "Email type")]
    pub email_type: Option<EmailType>,
    /// The sendmail-compatible program (default `/usr/sbin/sendmail`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    #[setting(kind = Kind::Path, default = "/usr/sbin/sendmail", label = "sendmail program")]
    pub sendmail_path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    #[setting(kind = Kind::Host, label = "Mail server")]
    pub host: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    #[setting(kind = Kind::Port, default = 25, label = "Port")]
    pub port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    #[setting(kind = Kind::Enum(Security::CHOICES), default = Security::None, label = "Encryption")]
    pub security: Option<Security>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    #[setting(kind = Kind::Enum(AuthMethod::CHOICES), default = AuthMethod::None, label = "Authentication")]
    pub auth: Option<AuthMethod>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    #[setting(kind = Kind::CommandText, label = "Username")]
    pub username: Option<String>,
    /// In the OS keychain, never in the document (see [`crate::secrets`]).
    #[setting(secret, label = "Password")]
    #[serde(skip)]
    pub password: Keychain,
    #[serde(skip_serializing_if = "MailboxSettings::is_empty")]
    #[setting(group, label = "Sender")]
    pub sender: MailboxSettings,
    #[serde(skip_serializing_if = "MailboxSettings::is_empty")]
    #[setting(group, label = "Reply-To")]
    pub reply_to: MailboxSettings,
    /// Raw UTF-8 headers and internationalized addresses (RFC 6531/6532).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    #[setting(kind = Kind::Bool, default = false, label = "UTF-8 headers (RFC 6532)")]
    pub utf8_headers: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    #[setting(kind = Kind::Seconds, default = 10, label = "Timeout (seconds)")]
    pub timeout_secs: Option<u32>,
    /// How long to wait for the reply to the end of a message (RFC 5321 §4.5.3.2.6).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    #[setting(kind = Kind::Seconds, default = 600, label = "Wait for the end of a message (seconds)")]
    pub data_timeout_secs: Option<u32>,
    /// Extra CA certificate (PEM) trusted for this server, besides the OS trust store.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    #[setting(kind = Kind::Path, label = "Extra CA file")]
    pub ca_file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    #[setting(kind = Kind::Bool, default = true, label = "Verify TLS certificates")]
    pub tls_verify: Option<bool>,
    /// The name Postdesk gives itself in EHLO (RFC 5321 §4.1.1.1), e.g. the machine's DNS
    /// name when the server checks it; unset, the address it connects from (`[192.0.2.1]`).
    #[setting(kind = Kind::Host, label = "EHLO name")]
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub helo_name: Option<String>,
    #[serde(skip_serializing_if = "M365Settings::is_empty")]
    #[setting(group)]
    pub m365: M365Settings,
}


#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default, TS, JsonSchema, Settings)]
#[serde(default, deny_unknown_fields)]
#[ts(export)]
pub struct SupportSettings {
    /// Where support requests go.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    #[setting(kind = Kind::Email, label = "Support request address")]
    pub address: Option<String>,
    /// Clients may set their own support address.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    #[setting(kind = Kind::Bool, default = false, label = "Allow client-specific support address")]
    pub allow_client_address: Option<bool>,
    /// Attach system information to support requests.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    #[setting(kind = Kind::Bool, default = false, label = "Attach system information")]
    pub attach_system_info: Option<bool>,
}


#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default, TS, JsonSchema, Settings)]
#[serde(default, deny_unknown_fields)]
#[ts(export)]
pub struct ClientSupport {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    #[setting(kind = Kind::Email, label = "Client support address")]
    pub address: Option<String>,
}

/// A client (tenant of the admin's organisation) with its optional own server.
// `Deserialize` is hand-written in `model_de` (same JSON, without serde's slow flatten).
#[derive(Serialize, Clone, Debug, PartialEq, Eq, Default, TS, JsonSchema, Settings)]
#[serde(default)]
#[ts(export)]
pub struct ClientSettings {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    #[setting(kind = Kind::Label, label = "Client name")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "ClientSupport::is_empty")]
    #[setting(group)]
    pub support: ClientSupport,
    /// This client's own invitation templates by user type; an unset text is the global
    /// template's (see [`crate::templates::effective_for`]).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    #[ts(as = "Option<BTreeMap<String, TemplateSettings>>", optional)]
    #[setting(skip)]
    pub templates: BTreeMap<String, TemplateSettings>,
    #[serde(flatten)]
    #[setting(flatten, client_only_keys)]
    pub server: ServerSettings,
}


/// A connector chosen by the From address of a mail.
// `Deserialize` is hand-written in `model_de` (same JSON, without serde's slow flatten).
#[derive(Serialize, Clone, Debug, PartialEq, Eq, Default, TS, JsonSchema, Settings)]
#[serde(default)]
#[ts(export)]
pub struct RouteSettings {
    /// An exact address, `*@example.com`, or `*@*.example.com` (any subdomain).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    #[setting(kind = Kind::FromPattern, label = "From address pattern")]
    pub from: Option<String>,
    /// Among equally specific matches the lowest order wins (default 100), then the name.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    #[setting(kind = Kind::Order, default = 100, label = "Order among equally specific routes")]
    pub order: Option<u32>,
    #[serde(flatten)]
    #[setting(flatten)]
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

    pub const CHOICES: &'static [&'static str] = &["imap", "imap-starttls", "imaps", "pop3", "pop3-stls", "pop3s"];

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
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default, TS, JsonSchema, Settings)]
#[serde(default, deny_unknown_fields)]
#[ts(export)]
pub struct ReceiverSettings {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    #[setting(kind = Kind::Bool, default = false, label = "Use receiver")]
    pub enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    #[setting(kind = Kind::Enum(ReceiverProtocol::CHOICES), default = ReceiverProtocol::Imaps, label = "Protocol")]
    pub protocol: Option<ReceiverProtocol>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    #[setting(kind = Kind::Host, label = "Receiver server")]
    pub host: Option<String>,
    /// Unset: the protocol's port (143, 993, 110, 995).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    #[setting(kind = Kind::Port, label = "Port")]
    pub port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    #[setting(kind = Kind::CommandText, label = "Username")]
    pub username: Option<String>,
    /// In the OS keychain, never in the document (see [`crate::secrets`]).
    #[setting(secret, label = "Password")]
    #[serde(skip)]
    pub password: Keychain,
    /// Extra CA certificate (PEM) trusted for this server, besides the OS trust store.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    #[setting(kind = Kind::Path, label = "Extra CA file")]
    pub ca_file: Option<String>,
    /// Log in before every send.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    #[setting(kind = Kind::Bool, default = false, label = "Log in before each send")]
    pub before_send: Option<bool>,
}


/// One invitation template: plain-text subject and body with `{{placeholders}}`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default, TS, JsonSchema, Settings)]
#[serde(default, deny_unknown_fields)]
#[ts(export)]
pub struct TemplateSettings {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    #[setting(kind = Kind::TemplateSubject, label = "Subject")]
    pub subject: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    #[setting(kind = Kind::TemplateBody, label = "Body")]
    pub body: Option<String>,
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

impl IgnoreDne {
    pub const CHOICES: &'static [&'static str] = &["none", "priority", "all"];
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default, TS, JsonSchema, Settings)]
#[serde(default, deny_unknown_fields)]
#[ts(export)]
pub struct LimitSettings {
    /// At most this many mails in any 24 hours; 0 = no limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    #[setting(kind = Kind::Count, default = 0, label = "Mails per 24 hours (0 = no limit)")]
    pub max_per_day: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    #[setting(kind = Kind::Enum(IgnoreDne::CHOICES), default = IgnoreDne::None, label = "Ignore the Do-Not-Email list for")]
    pub ignore_dne_for: Option<IgnoreDne>,
}


#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default, TS, JsonSchema, Settings)]
#[serde(default, deny_unknown_fields)]
#[ts(export)]
pub struct SendSettings {
    /// The domain a bare local name (`root`, as cron passes it) gets, as sendmail's
    /// masquerading gives it; unset: the domain of `global.sender.address`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    #[setting(kind = Kind::Domain, label = "Domain for bare local names (root → root@domain)")]
    pub local_domain: Option<String>,
}

/// The HTTP proxy token and Graph requests go through (`proxy.*`); unset `url`: the
/// environment's `HTTPS_PROXY`/`NO_PROXY`, then the desktop's proxy (see [`crate::proxy`]).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default, TS, JsonSchema, Settings)]
#[serde(default, deny_unknown_fields)]
#[ts(export)]
pub struct ProxySettings {
    /// `http://host:port`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    #[setting(kind = Kind::ProxyUrl, label = "Proxy (http://host:port)")]
    pub url: Option<String>,
    /// Hosts reached without the proxy: suffixes, `.suffix`, `*`, IP addresses, networks.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    #[setting(kind = Kind::NoProxy, label = "No proxy for (comma list)")]
    pub no_proxy: Option<String>,
    /// User name for the proxy's Basic authentication.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    #[setting(kind = Kind::CommandText, label = "Proxy user name")]
    pub username: Option<String>,
    /// In the OS keychain, never in the document (see [`crate::secrets`]).
    #[setting(secret, label = "Proxy password")]
    #[serde(skip)]
    pub password: Keychain,
}


#[cfg(test)]
mod tests {
    use super::*;

    /// Every enum's `CHOICES` (the key table's `Kind::Enum`) are exactly its serde names: the
    /// JSON schema lists what the document accepts.
    #[test]
    fn choices_are_the_serde_names_of_every_variant() {
        fn names<T: JsonSchema>() -> Vec<String> {
            let schema = serde_json::to_value(schemars::schema_for!(T)).unwrap();
            let mut out: Vec<String> = match schema.get("enum") {
                Some(values) => values.as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect(),
                // Variants with doc comments are listed one by one.
                None => schema["oneOf"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .flat_map(|v| match v.get("const") {
                        Some(c) => vec![c.clone()],
                        None => v["enum"].as_array().unwrap().clone(),
                    })
                    .map(|v| v.as_str().unwrap().to_string())
                    .collect(),
            };
            out.sort();
            out
        }
        fn sorted(c: &[&str]) -> Vec<String> {
            let mut v: Vec<String> = c.iter().map(|s| s.to_string()).collect();
            v.sort();
            v
        }
        assert_eq!(names::<EmailType>(), sorted(EmailType::CHOICES));
        assert_eq!(names::<Security>(), sorted(Security::CHOICES));
        assert_eq!(names::<AuthMethod>(), sorted(AuthMethod::CHOICES));
        assert_eq!(names::<M365Flow>(), sorted(M365Flow::CHOICES));
        assert_eq!(names::<M365Cloud>(), sorted(M365Cloud::CHOICES));
        assert_eq!(names::<ReceiverProtocol>(), sorted(ReceiverProtocol::CHOICES));
        assert_eq!(names::<IgnoreDne>(), sorted(IgnoreDne::CHOICES));
    }
}
