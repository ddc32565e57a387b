//! Problems and value checkers: what a check finds (`Problem`, `Severity`) and the checks of
//! one value (an address, a host, a date) that rules of every layer use. A leaf: it imports no
//! module of the core.

use std::net::{Ipv4Addr, Ipv6Addr};

use serde::Serialize;
use time::Date;
use ts_rs::TS;

#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, TS)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum Severity {
    /// The value itself is wrong.
    Error,
    /// A value needed by the other settings is not there yet.
    Missing,
    /// Works, but an admin should know.
    Warning,
}

#[derive(Serialize, Clone, Debug, PartialEq, Eq, TS)]
#[ts(export)]
pub struct Problem {
    pub key: String,
    pub severity: Severity,
    pub message: String,
}

impl Problem {
    pub(crate) fn new(key: impl Into<String>, severity: Severity, message: impl Into<String>) -> Self {
        Problem { key: key.into(), severity, message: message.into() }
    }
    pub fn is_blocking(&self) -> bool {
        self.severity != Severity::Warning
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Shown on terminals: a key or message that echoes a hostile value stays inert.
        let (key, message) = (shown(&self.key), shown(&self.message));
        match self.severity {
            Severity::Warning => write!(f, "{key}: warning: {message}"),
            _ => write!(f, "{key}: {message}"),
        }
    }
}

/// Text as a message may show it: control characters escaped (`\u{1b}`), so a hostile value
/// echoed in an error cannot drive the terminal or break the line it is shown on.
pub fn shown(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { c.escape_unicode().to_string() } else { c.to_string() }).collect()
}

pub const MAX_HOST: usize = 253;
pub const MAX_EMAIL: usize = 254;
pub const MAX_NAME: usize = 200;
pub const MAX_TEXT: usize = 256;
pub const MAX_PATH: usize = 4096;

/// Multi-line text (a template body, a support message) has a control character other than a
/// line break or a tab.
pub fn has_control_in_text(v: &str) -> bool {
    v.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
}

/// One address per line; empty lines are ignored. The failing line is named.
pub(crate) fn check_address_list(v: &str, utf8: bool) -> Result<(), String> {
    let lines: Vec<&str> = address_lines(v).collect();
    if lines.len() > 100 {
        return Err("has too many addresses (at most 100)".into());
    }
    for (n, line) in v.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        check_email(line.trim(), utf8).map_err(|e| format!("line {} ({}): {e}", n + 1, shown(line.trim())))?;
    }
    Ok(())
}

/// The addresses of a one-per-line list, trimmed, empty lines skipped.
pub fn address_lines(v: &str) -> impl Iterator<Item = &str> {
    v.lines().map(str::trim).filter(|l| !l.is_empty())
}

pub fn parse_date(v: &str) -> Result<Date, String> {
    Date::parse(v, time::macros::format_description!("[year]-[month]-[day]"))
        .map_err(|_| "must be a date YYYY-MM-DD".to_string())
}

pub(crate) fn check_guid(v: &str) -> bool {
    let groups: Vec<&str> = v.split('-').collect();
    groups.len() == 5
        && groups.iter().zip([8, 4, 4, 4, 12]).all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

/// A host name, an IPv4 address or an IPv6 address (bare or in brackets).
pub fn check_host(v: &str) -> Result<(), String> {
    if v.len() > MAX_HOST {
        return Err(format!("is too long (at most {MAX_HOST} characters)"));
    }
    let bare = v.strip_prefix('[').and_then(|s| s.strip_suffix(']')).unwrap_or(v);
    if bare.parse::<Ipv6Addr>().is_ok() || v.parse::<Ipv4Addr>().is_ok() {
        return Ok(());
    }
    if v.contains(':') {
        return Err("is not a valid IPv6 address; put the port in the Port field".into());
    }
    if v.split('.').all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_digit())) {
        return Err("is not a valid IPv4 address".into());
    }
    check_domain(v).map_err(|e| format!("is not a valid host name: {e}"))
}

/// A DNS name; internationalized names are accepted and checked in their ASCII (punycode) form.
pub(crate) fn check_domain(v: &str) -> Result<(), String> {
    let ascii = idna::domain_to_ascii_strict(v).map_err(|_| "contains characters a host name cannot have".to_string())?;
    let ascii = ascii.strip_suffix('.').unwrap_or(&ascii);
    if ascii.is_empty() || ascii.len() > MAX_HOST {
        return Err("must be 1 to 253 characters".into());
    }
    for label in ascii.split('.') {
        if label.is_empty() || label.len() > 63 {
            return Err("each part between dots must be 1 to 63 characters".into());
        }
        if !label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err("only letters, digits, '-' and '.' are allowed".into());
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err("a part may not start or end with '-'".into());
        }
    }
    Ok(())
}

/// An addr-spec (`local@domain`), no display name. Non-ASCII only with UTF-8 headers on.
pub fn check_email(v: &str, utf8: bool) -> Result<(), String> {
    if v.len() > MAX_EMAIL {
        return Err(format!("is too long (at most {MAX_EMAIL} characters)"));
    }
    // C1 controls are non-ASCII: UTF-8 headers alone must not let them in.
    if v.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    if !utf8 && !v.is_ascii() {
        return Err("contains non-ASCII characters: turn on UTF-8 headers (RFC 6532) to use internationalized addresses".into());
    }
    if v.contains('<') || v.contains('>') {
        return Err("must be a bare address like it@example.com; put the name in the name field".into());
    }
    let Some((local, domain)) = v.rsplit_once('@') else {
        return Err("is not an e-mail address (like it@example.com)".into());
    };
    if local.is_empty() || local.len() > 64 {
        return Err("has an empty or too long part before the @ (at most 64)".into());
    }
    let atext = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c) || (!c.is_ascii() && utf8);
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") || !local.chars().all(|c| atext(c) || c == '.') {
        return Err("has characters not allowed before the @".into());
    }
    if let Some(literal) = domain.strip_prefix('[').and_then(|d| d.strip_suffix(']')) {
        let ip_ok = literal.parse::<Ipv4Addr>().is_ok() || literal.strip_prefix("IPv6:").is_some_and(|s| s.parse::<Ipv6Addr>().is_ok());
        return ip_ok.then_some(()).ok_or_else(|| "has an invalid address literal after the @".into());
    }
    check_domain(domain).map_err(|e| format!("has an invalid domain: {e}"))
}

/// `https://host[:port][/path]`; `http://` only for loopback (test peers).
pub(crate) fn check_url(v: &str) -> Result<(), String> {
    let (scheme, rest) = v.split_once("://").ok_or("must be a URL like https://login.microsoftonline.com")?;
    let authority = rest.split('/').next().unwrap_or("");
    if rest.contains(['?', '#']) {
        return Err("must not have a query or fragment".into());
    }
    let host = match authority.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(':') && p.chars().all(|c| c.is_ascii_digit()) && !p.is_empty() => {
            p.parse::<u16>().ok().filter(|n| *n > 0).ok_or("has an invalid port")?;
            h
        }
        _ => authority,
    };
    check_host(host).map_err(|e| format!("host {e}"))?;
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = bare == "localhost" || bare.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
    match scheme {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        "http" => Err("must use https:// (http:// only for localhost)".into()),
        _ => Err("must start with https://".into()),
    }
}

