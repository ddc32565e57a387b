//! Which HTTP proxy a request to Entra or Graph goes through, decided from what the caller
//! gathered (`sysproxy.rs` reads the environment and the desktop): Postdesk's own settings
//! (`proxy.url`, `proxy.no_proxy`, `proxy.username`, the password in the keychain) win; else
//! `HTTPS_PROXY`/`https_proxy` (`HTTP_PROXY`/`http_proxy` for an `http://` target, then
//! `ALL_PROXY`) with `NO_PROXY`/`no_proxy`; else the desktop's proxy (GNOME's
//! `org.gnome.system.proxy`, the Windows or macOS system proxy). Pure: parsing and matching.
//!
//! Loopback: a proxy taken from the environment or the desktop never carries a request to a
//! loopback host (`localhost`, 127.0.0.0/8, ::1), as curl's and Go's defaults and the
//! desktops' own ignore lists do; a proxy set in Postdesk's settings is explicit and carries
//! every host that `proxy.no_proxy` does not name, loopback included.

use std::net::IpAddr;

use crate::secrets::Secret;

/// `http://host:port` of a proxy: the host (IPv6 without brackets) and the port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProxyUrl {
    pub host: String,
    pub port: u16,
}

impl std::fmt::Display for ProxyUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// A proxy address with the user name and password it may carry (`http://user:pw@host:port`,
/// as environment variables sometimes do).
pub struct Parsed {
    pub url: ProxyUrl,
    pub user: Option<String>,
    pub password: Option<Secret>,
}

impl std::fmt::Debug for Parsed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Parsed").field("url", &self.url).field("user", &self.user).finish_non_exhaustive()
    }
}

/// Reads a proxy address: `http://host:port` with an optional trailing `/`; `lenient` (the
/// environment, the desktop) also takes a bare `host:port` and credentials before the host.
/// Errors never repeat the text (it may hold a password).
pub fn parse(text: &str, lenient: bool) -> Result<Parsed, String> {
    let t = text.trim();
    if t.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err("must not contain spaces or control characters".into());
    }
    let rest = match t.split_once("://") {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => rest,
        Some((scheme, _)) if scheme.eq_ignore_ascii_case("https") => return Err("must be http://host:port: a proxy reached over TLS (https://) is not supported; the connection to Entra and Graph through it is TLS all the same".into()),
        Some(_) => return Err("must be http://host:port (only HTTP proxies are supported)".into()),
        None if lenient => t,
        None => return Err("must be http://host:port".into()),
    };
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.contains(['/', '?', '#']) {
        return Err("must be http://host:port, without a path".into());
    }
    let (userinfo, hostport) = match rest.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, rest),
    };
    if userinfo.is_some() && !lenient {
        return Err("must not carry a user name or password: set proxy.username, and the password in the keychain (postdesk secret set proxy.password)".into());
    }
    let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
        let (h, p) = v6.split_once(']').ok_or("has an unclosed [")?;
        (h, p.strip_prefix(':').ok_or("must name the port: http://host:port")?)
    } else {
        hostport.rsplit_once(':').ok_or("must name the port: http://host:port")?
    };
    let port: u16 = port.parse().ok().filter(|p| *p != 0).ok_or("has a port that is not a number from 1 to 65535")?;
    if host.is_empty() {
        return Err("has no host".into());
    }
    if hostport.starts_with('[') {
        host.parse::<std::net::Ipv6Addr>().map_err(|_| "has a bracketed host that is not an IPv6 address")?;
    } else if !host.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_') || host.starts_with(['-', '.']) {
        return Err("has a host that is not a host name or IP address".into());
    }
    let decode = |s: &str| percent_decode(s);
    let (user, password) = match userinfo {
        None => (None, None),
        Some(u) => match u.split_once(':') {
            Some((user, pw)) => (Some(decode(user)), Some(Secret::new(decode(pw)))),
            None => (Some(decode(u)), None),
        },
    };
    Ok(Parsed { url: ProxyUrl { host: host.to_ascii_lowercase(), port }, user: user.filter(|u| !u.is_empty()), password })
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// One entry of a no-proxy list.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Rule {
    /// `*`: no host goes through the proxy.
    All,
    /// `example.com` or `.example.com`: that host and every host under it; with a port, only it.
    Suffix { domain: String, port: Option<u16> },
    /// An address or a network (`10.0.0.0/8`, `::1`, `[fd00::]/8`), with an optional port.
    Net { addr: IpAddr, prefix: u8, port: Option<u16> },
}

/// A no-proxy list (`proxy.no_proxy`, `NO_PROXY`, the desktop's ignore list): host suffixes,
/// `.suffix`, `*.suffix`, `*`, IP addresses and CIDR networks, each optionally with `:port`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NoProxy(Vec<Rule>);

impl NoProxy {
    /// Reads a comma (or space, or `;`) separated list; `strict` (the settings) refuses an
    /// entry it cannot read, naming it, where the environment's entries are skipped.
    pub fn parse(text: &str, strict: bool) -> Result<NoProxy, String> {
        let mut rules = Vec::new();
        for entry in text.split([',', ' ', ';', '\n', '\t']).map(str::trim).filter(|e| !e.is_empty()) {
            match rule(entry) {
                Some(r) => rules.push(r),
                None if strict => return Err(format!("cannot read the entry \"{}\": use host suffixes (example.com, .example.com), *, IP addresses or networks (10.0.0.0/8), each optionally with :port", crate::checks::shown(entry))),
                None => {}
            }
        }
        Ok(NoProxy(rules))
    }

    /// Whether a request to `host:port` goes straight to the host.
    pub fn matches(&self, host: &str, port: u16) -> bool {
        let host = host.trim_start_matches('[').trim_end_matches(']').trim_end_matches('.').to_ascii_lowercase();
        let ip: Option<IpAddr> = host.parse().ok();
        self.0.iter().any(|r| match r {
            Rule::All => true,
            Rule::Suffix { domain, port: p } => p.is_none_or(|p| p == port) && (host == *domain || host.ends_with(&format!(".{domain}"))),
            Rule::Net { addr, prefix, port: p } => p.is_none_or(|p| p == port) && ip.is_some_and(|ip| in_net(ip, *addr, *prefix)),
        })
    }
}

fn rule(entry: &str) -> Option<Rule> {
    if entry == "*" {
        return Some(Rule::All);
    }
    // A network or an address, optionally bracketed, optionally with a port after the brackets.
    let (addr_part, port) = split_port(entry)?;
    let (addr_text, prefix) = match addr_part.as_str().split_once('/') {
        Some((a, p)) => (a, Some(p.parse::<u8>().ok()?)),
        None => (addr_part.as_str(), None),
    };
    if let Ok(addr) = addr_text.parse::<IpAddr>() {
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        return (prefix <= max).then_some(Rule::Net { addr, prefix, port });
    }
    if prefix.is_some() {
        return None;
    }
    let domain = addr_text.trim_start_matches("*.").trim_start_matches('.').trim_end_matches('.').to_ascii_lowercase();
    let ok = !domain.is_empty() && domain.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_') && !domain.starts_with('-');
    ok.then_some(Rule::Suffix { domain, port })
}

/// `host:port`, `[v6]:port`, `[v6]/prefix`, a bare IPv6 address or network (no port), or no port.
fn split_port(entry: &str) -> Option<(String, Option<u16>)> {
    if let Some(v6) = entry.strip_prefix('[') {
        let (inside, after) = v6.split_once(']')?;
        if let Some(p) = after.strip_prefix(':') {
            return Some((inside.into(), Some(p.parse().ok()?)));
        }
        if let Some(plen) = after.strip_prefix('/') {
            return Some((format!("{inside}/{plen}"), None));
        }
        return after.is_empty().then(|| (inside.to_string(), None));
    }
    if entry.matches(':').count() >= 2 {
        return Some((entry.into(), None));
    }
    match entry.rsplit_once(':') {
        Some((h, p)) => Some((h.into(), Some(p.parse().ok()?))),
        None => Some((entry.into(), None)),
    }
}

fn in_net(ip: IpAddr, net: IpAddr, prefix: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = if prefix == 0 { 0 } else { u32::MAX << (32 - u32::from(prefix)) };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = if prefix == 0 { 0 } else { u128::MAX << (128 - u32::from(prefix)) };
            u128::from(a) & mask == u128::from(n) & mask
        }
        // An IPv4-mapped IPv6 address against an IPv4 network.
        (IpAddr::V6(a), IpAddr::V4(_)) => a.to_ipv4_mapped().is_some_and(|v4| in_net(IpAddr::V4(v4), net, prefix)),
        _ => false,
    }
}

/// Whether `host` is this machine's loopback (`localhost`, `*.localhost`, 127.0.0.0/8, ::1).
pub fn is_loopback(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']').trim_end_matches('.').to_ascii_lowercase();
    h == "localhost" || h.ends_with(".localhost") || h.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Postdesk's own proxy settings (`proxy.*`), the password already read from the keychain.
#[derive(Clone, Default)]
pub struct Settings {
    pub url: Option<String>,
    pub no_proxy: Option<String>,
    pub username: Option<String>,
    pub password: Option<Secret>,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings").field("url", &self.url).field("no_proxy", &self.no_proxy).field("username", &self.username).field("password", &self.password.as_ref().map(|_| "(set)")).finish()
    }
}

impl PartialEq for Settings {
    fn eq(&self, o: &Settings) -> bool {
        self.url == o.url && self.no_proxy == o.no_proxy && self.username == o.username && self.password.as_ref().map(Secret::expose) == o.password.as_ref().map(Secret::expose)
    }
}
impl Eq for Settings {}

/// The desktop's proxy (GNOME manual mode, the Windows or macOS system proxy).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Desktop {
    /// Where it was read from (`GNOME org.gnome.system.proxy`, `Windows Internet Settings`, …).
    pub source: String,
    /// `host:port` for https targets, and for http targets.
    pub https: Option<String>,
    pub http: Option<String>,
    /// The ignore list, as a no-proxy list.
    pub ignore: String,
}

/// Where a chosen proxy came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    Settings,
    /// The variable's name.
    Environment(String),
    Desktop(String),
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Settings => f.write_str("proxy.url"),
            Source::Environment(v) => f.write_str(v),
            Source::Desktop(d) => f.write_str(d),
        }
    }
}

/// The proxy a request goes through: where, the credentials for Basic auth, and why.
#[derive(Clone)]
pub struct Choice {
    pub url: ProxyUrl,
    pub user: Option<String>,
    pub password: Option<Secret>,
    pub source: Source,
}

impl std::fmt::Debug for Choice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Choice").field("url", &self.url).field("user", &self.user).field("source", &self.source).finish_non_exhaustive()
    }
}

impl Choice {
    /// `Proxy-Authorization: Basic …` when a user name is known.
    pub fn basic_auth(&self) -> Option<zeroize::Zeroizing<String>> {
        use base64::Engine;
        let user = self.user.as_deref()?;
        let mut plain = zeroize::Zeroizing::new(String::with_capacity(user.len() + 1 + self.password.as_ref().map_or(0, |p| p.expose().len())));
        plain.push_str(user);
        plain.push(':');
        if let Some(p) = &self.password {
            plain.push_str(p.expose());
        }
        Some(zeroize::Zeroizing::new(format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(plain.as_bytes()))))
    }

    /// One line for a diagnosis: `proxy 127.0.0.1:3128 (from HTTPS_PROXY), user alice`.
    pub fn describe(&self) -> String {
        let mut s = format!("proxy {} (from {})", self.url, self.source);
        if let Some(u) = &self.user {
            s.push_str(&format!(", user {}", crate::checks::shown(u)));
        }
        s
    }
}

/// Looks a variable up (the process environment, or a test's table).
pub trait Env {
    fn var(&self, name: &str) -> Option<String>;
}

impl<F: Fn(&str) -> Option<String>> Env for F {
    fn var(&self, name: &str) -> Option<String> {
        self(name)
    }
}

/// The proxy for a request to `scheme://host:port`, or `None` (straight to the host).
/// `desktop` is asked only when neither the settings nor the environment name a proxy.
pub fn choose(scheme: &str, host: &str, port: u16, settings: &Settings, env: &dyn Env, desktop: &mut dyn FnMut() -> Option<Desktop>) -> Result<Option<Choice>, String> {
    if let Some(url) = settings.url.as_deref().filter(|u| !u.trim().is_empty()) {
        let parsed = parse(url, false).map_err(|e| format!("proxy.url {e}"))?;
        let no = NoProxy::parse(settings.no_proxy.as_deref().unwrap_or(""), true).map_err(|e| format!("proxy.no_proxy: {e}"))?;
        if no.matches(host, port) {
            return Ok(None);
        }
        let user = settings.username.clone().filter(|u| !u.is_empty());
        let password = if user.is_some() { settings.password.clone() } else { None };
        return Ok(Some(Choice { url: parsed.url, user, password, source: Source::Settings }));
    }
    let get = |name: &str| env.var(name).filter(|v| !v.trim().is_empty());
    let names: &[&str] = if scheme == "https" { &["https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"] } else { &["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"] };
    // CGI puts a client's `Proxy:` header into HTTP_PROXY (httpoxy): not read when run as CGI.
    let cgi = get("REQUEST_METHOD").is_some();
    let from_env = names.iter().filter(|n| !(cgi && n.eq_ignore_ascii_case("http_proxy"))).find_map(|n| get(n).map(|v| (n.to_string(), v)));
    if let Some((name, value)) = from_env {
        if is_loopback(host) {
            return Ok(None);
        }
        let no = get("no_proxy").or_else(|| get("NO_PROXY")).unwrap_or_default();
        if NoProxy::parse(&no, false).unwrap_or_default().matches(host, port) {
            return Ok(None);
        }
        let parsed = parse(&value, true).map_err(|e| format!("{name} {e}"))?;
        return Ok(Some(Choice { url: parsed.url, user: parsed.user, password: parsed.password, source: Source::Environment(name) }));
    }
    if is_loopback(host) {
        return Ok(None);
    }
    let Some(d) = desktop() else { return Ok(None) };
    let server = if scheme == "https" { d.https.as_deref() } else { d.http.as_deref() };
    let Some(server) = server.filter(|s| !s.is_empty()) else { return Ok(None) };
    if NoProxy::parse(&d.ignore, false).unwrap_or_default().matches(host, port) {
        return Ok(None);
    }
    let parsed = parse(server, true).map_err(|e| format!("the desktop's proxy ({}) {e}", d.source))?;
    Ok(Some(Choice { url: parsed.url, user: parsed.user, password: parsed.password, source: Source::Desktop(d.source) }))
}

/// GNOME's `org.gnome.system.proxy` from `gsettings get` answers: `mode` (`'manual'`), the
/// `https`/`http` children's `host` and `port`, and `ignore-hosts` (`['localhost', '::1']`).
/// `None` unless the mode is manual with a host (`auto`, a PAC file, is not followed).
pub fn gnome(mode: &str, https: (&str, &str), http: (&str, &str), ignore_hosts: &str) -> Option<Desktop> {
    let unquote = |s: &str| s.trim().trim_start_matches("uint32 ").trim_matches('\'').to_string();
    if unquote(mode) != "manual" {
        return None;
    }
    let server = |(h, p): (&str, &str)| {
        let host = unquote(h);
        let port: u16 = unquote(p).parse().ok().filter(|p| *p != 0)?;
        (!host.is_empty()).then(|| if host.contains(':') && !host.starts_with('[') { format!("[{host}]:{port}") } else { format!("{host}:{port}") })
    };
    let (https, http) = (server(https), server(http));
    if https.is_none() && http.is_none() {
        return None;
    }
    let list = ignore_hosts.trim().trim_start_matches("@as ").trim_start_matches('[').trim_end_matches(']');
    let ignore = list.split(',').map(|e| e.trim().trim_matches('\'')).filter(|e| !e.is_empty()).collect::<Vec<_>>().join(",");
    Some(Desktop { source: "GNOME org.gnome.system.proxy".into(), https, http, ignore })
}

/// The Windows system proxy from the `Internet Settings` values (`ProxyEnable`, `ProxyServer`
/// — `host:port` or `http=h:p;https=h:p` — and `ProxyOverride`, `;`-separated with `<local>`).
#[cfg_attr(not(windows), allow(dead_code))]
pub fn windows(enable: bool, server: &str, overrides: &str) -> Option<Desktop> {
    if !enable || server.trim().is_empty() {
        return None;
    }
    let (mut https, mut http) = (None, None);
    if server.contains('=') {
        for part in server.split(';') {
            match part.split_once('=') {
                Some((k, v)) if k.trim().eq_ignore_ascii_case("https") => https = Some(v.trim().to_string()),
                Some((k, v)) if k.trim().eq_ignore_ascii_case("http") => http = Some(v.trim().to_string()),
                _ => {}
            }
        }
        // Windows sends https through the http entry when no https entry is given.
        https = https.or(http.clone());
    } else {
        https = Some(server.trim().to_string());
        http = https.clone();
    }
    let ignore = overrides.split(';').map(str::trim).filter(|e| !e.is_empty()).map(|e| if e.eq_ignore_ascii_case("<local>") { "localhost" } else { e }).collect::<Vec<_>>().join(",");
    Some(Desktop { source: "Windows Internet Settings".into(), https, http, ignore })
}

/// The macOS system proxy from `scutil --proxy` (`HTTPSEnable : 1`, `HTTPSProxy : h`,
/// `HTTPSPort : p`, the same for HTTP, and the `ExceptionsList` array).
#[cfg_attr(not(target_os = "macos"), allow(dead_code))]
pub fn macos(scutil: &str) -> Option<Desktop> {
    let value = |key: &str| scutil.lines().find_map(|l| l.trim().strip_prefix(key).and_then(|r| r.trim_start().strip_prefix(':')).map(|v| v.trim().to_string()));
    let server = |kind: &str| {
        (value(&format!("{kind}Enable")).as_deref() == Some("1")).then_some(())?;
        let host = value(&format!("{kind}Proxy"))?;
        let port = value(&format!("{kind}Port"))?;
        Some(format!("{host}:{port}"))
    };
    let (https, http) = (server("HTTPS"), server("HTTP"));
    if https.is_none() && http.is_none() {
        return None;
    }
    let mut ignore = Vec::new();
    let mut in_list = false;
    for l in scutil.lines() {
        let l = l.trim();
        if l.starts_with("ExceptionsList") {
            in_list = true;
        } else if in_list && l.starts_with('}') {
            in_list = false;
        } else if in_list {
            if let Some((_, v)) = l.split_once(" : ") {
                ignore.push(v.trim().to_string());
            }
        }
    }
    Some(Desktop { source: "macOS system proxy".into(), https, http, ignore: ignore.join(",") })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k: &str| m.get(k).cloned()
    }

    fn pick(settings: &Settings, e: &[(&str, &str)], desk: Option<Desktop>, host: &str) -> Option<(String, String)> {
        let mut asked = move || desk.clone();
        choose("https", host, 443, settings, &env(e), &mut asked).unwrap().map(|c| (c.url.to_string(), c.source.to_string()))
    }

    fn s(url: &str, no: &str) -> Settings {
        Settings { url: Some(url.into()), no_proxy: Some(no.into()), ..Default::default() }
    }

    #[test]
    fn proxy_urls_are_http_host_port() {
        let p = parse("http://Proxy.Example.com:3128/", false).unwrap();
        assert_eq!(p.url, ProxyUrl { host: "proxy.example.com".into(), port: 3128 });
        assert_eq!(parse("http://[::1]:8080", false).unwrap().url.to_string(), "[::1]:8080");
        for bad in ["proxy:3128", "https://p:3128", "socks5://p:1080", "http://p", "http://p:0", "http://p:99999", "http://p:80/path", "http://u:pw@p:80", "http://:80", "http://p q:80", "http://[zz]:80"] {
            assert!(parse(bad, false).is_err(), "{bad}");
        }
        // The environment may carry credentials (percent-encoded) and omit the scheme.
        let e = parse("http://al%40ice:p%3Aw@10.0.0.1:8080", true).unwrap();
        assert_eq!((e.user.as_deref(), e.password.as_ref().map(Secret::expose)), (Some("al@ice"), Some("p:w")));
        assert_eq!(parse("proxy.corp:3128", true).unwrap().url.port, 3128);
        // An error never repeats the text: it may hold a password.
        let err = parse("http://u:hunter2@p:80", false).unwrap_err();
        assert!(!err.contains("hunter2"), "{err}");
        assert!(!parse("http://u:hunter2@p", true).unwrap_err().contains("hunter2"));
    }

    #[test]
    fn no_proxy_matches_suffixes_networks_ports_and_star() {
        let n = NoProxy::parse("example.com, .corp.test,*.wild.test, 10.0.0.0/8 ,192.168.1.5, ::1, fd00::/8, [fe80::1]:8443, internal.test:8443", true).unwrap();
        for (host, port, want) in [
            ("example.com", 443, true),
            ("a.b.example.com", 443, true),
            ("notexample.com", 443, false),
            ("corp.test", 443, true),
            ("x.corp.test", 443, true),
            ("y.wild.test", 443, true),
            ("10.1.2.3", 443, true),
            ("11.1.2.3", 443, false),
            ("192.168.1.5", 443, true),
            ("192.168.1.6", 443, false),
            ("[::1]", 443, true),
            ("fd12::5", 443, true),
            ("fe80::1", 8443, true),
            ("fe80::1", 443, false),
            ("internal.test", 8443, true),
            ("internal.test", 443, false),
            ("EXAMPLE.COM.", 443, true),
            ("::ffff:10.0.0.1", 443, true),
        ] {
            assert_eq!(n.matches(host, port), want, "{host}:{port}");
        }
        assert!(NoProxy::parse("*", true).unwrap().matches("anything.example", 1));
        assert!(NoProxy::parse("10.0.0.0/33", true).is_err());
        assert!(NoProxy::parse("bad host", true).is_ok());
        let e = NoProxy::parse("ok.test, 1.2.3.4/x", true).unwrap_err();
        assert!(e.contains("1.2.3.4/x"), "{e}");
        // The environment's unreadable entries are skipped.
        assert!(NoProxy::parse("1.2.3.4/x,ok.test", false).unwrap().matches("ok.test", 443));
        assert!(!NoProxy::default().matches("example.com", 443));
    }

    #[test]
    fn settings_win_over_the_environment_and_the_desktop() {
        let e = [("HTTPS_PROXY", "http://envproxy:8080"), ("NO_PROXY", "nope.test")];
        let desk = Some(Desktop { source: "GNOME org.gnome.system.proxy".into(), https: Some("gnome:3128".into()), http: None, ignore: String::new() });
        assert_eq!(pick(&s("http://mine:3128", ""), &e, desk.clone(), "login.microsoftonline.com"), Some(("mine:3128".into(), "proxy.url".into())));
        // The settings' own no-proxy list, not the environment's.
        assert_eq!(pick(&s("http://mine:3128", "microsoftonline.com"), &e, desk.clone(), "login.microsoftonline.com"), None);
        assert!(pick(&s("http://mine:3128", ""), &e, desk.clone(), "nope.test").is_some());
        // Unset settings: the environment, upper or lower case, https_proxy first.
        assert_eq!(pick(&Settings::default(), &e, desk.clone(), "graph.microsoft.com"), Some(("envproxy:8080".into(), "HTTPS_PROXY".into())));
        assert_eq!(pick(&Settings::default(), &[("https_proxy", "http://lower:1"), ("HTTPS_PROXY", "http://upper:2")], None, "h.test").unwrap().0, "lower:1");
        assert_eq!(pick(&Settings::default(), &e, desk.clone(), "a.nope.test"), None);
        assert_eq!(pick(&Settings::default(), &[("https_proxy", "http://p:1"), ("no_proxy", "*")], None, "h.test"), None);
        // Nothing in the environment: the desktop.
        assert_eq!(pick(&Settings::default(), &[], desk.clone(), "graph.microsoft.com"), Some(("gnome:3128".into(), "GNOME org.gnome.system.proxy".into())));
        assert_eq!(pick(&Settings::default(), &[("HTTP_PROXY", "http://plain:1")], None, "graph.microsoft.com"), None, "HTTP_PROXY is for http targets");
        assert_eq!(pick(&Settings::default(), &[("ALL_PROXY", "http://all:1")], None, "graph.microsoft.com").unwrap().0, "all:1");
        assert_eq!(pick(&Settings::default(), &[], None, "graph.microsoft.com"), None);
    }

    #[test]
    fn loopback_goes_through_only_an_explicit_proxy() {
        let e = [("HTTPS_PROXY", "http://envproxy:8080"), ("HTTP_PROXY", "http://envproxy:8080")];
        let desk = Some(Desktop { source: "d".into(), https: Some("gnome:3128".into()), http: Some("gnome:3128".into()), ignore: String::new() });
        for host in ["127.0.0.1", "localhost", "[::1]", "127.1.2.3", "a.localhost"] {
            assert_eq!(pick(&Settings::default(), &e, desk.clone(), host), None, "{host}");
            assert_eq!(pick(&Settings::default(), &[], desk.clone(), host), None, "{host}");
            assert!(pick(&s("http://mine:1", ""), &e, None, host).is_some(), "{host}");
        }
    }

    #[test]
    fn the_desktop_is_asked_only_when_needed() {
        let asked = std::cell::Cell::new(0);
        let mut desk = || {
            asked.set(asked.get() + 1);
            None
        };
        choose("https", "h.test", 443, &s("http://mine:1", ""), &env(&[]), &mut desk).unwrap();
        choose("https", "h.test", 443, &Settings::default(), &env(&[("HTTPS_PROXY", "http://p:1")]), &mut desk).unwrap();
        assert_eq!(asked.get(), 0);
        choose("https", "h.test", 443, &Settings::default(), &env(&[]), &mut desk).unwrap();
        assert_eq!(asked.get(), 1);
    }

    #[test]
    fn credentials_become_basic_auth_and_never_show() {
        let set = Settings { url: Some("http://p:3128".into()), username: Some("alice".into()), password: Some(Secret::new("s3cret")), ..Default::default() };
        let c = choose("https", "h.test", 443, &set, &env(&[]), &mut || None).unwrap().unwrap();
        assert_eq!(c.basic_auth().unwrap().as_str(), "Basic YWxpY2U6czNjcmV0");
        let shown = format!("{c:?} {} {set:?}", c.describe());
        assert!(!shown.contains("s3cret"), "{shown}");
        // No user name: no credentials, even with a stored password.
        let anon = Settings { username: None, ..set };
        assert!(choose("https", "h.test", 443, &anon, &env(&[]), &mut || None).unwrap().unwrap().basic_auth().is_none());
        let from_env = choose("https", "h.test", 443, &Settings::default(), &env(&[("HTTPS_PROXY", "http://bob:pw@p:1")]), &mut || None).unwrap().unwrap();
        assert_eq!(from_env.basic_auth().unwrap().as_str(), "Basic Ym9iOnB3");
        assert!(!from_env.describe().contains("pw"));
        // A broken setting is an error naming the key; a broken variable names the variable.
        assert!(choose("https", "h", 443, &s("ftp://x:1", ""), &env(&[]), &mut || None).unwrap_err().starts_with("proxy.url "));
        assert!(choose("https", "h", 443, &Settings::default(), &env(&[("HTTPS_PROXY", "http://x")]), &mut || None).unwrap_err().starts_with("HTTPS_PROXY "));
    }

    #[test]
    fn desktop_settings_are_read() {
        let g = gnome("'manual'", ("'proxy.corp'", "uint32 3128"), ("''", "uint32 0"), "['localhost', '127.0.0.0/8', '::1', '*.corp']").unwrap();
        assert_eq!(g.https.as_deref(), Some("proxy.corp:3128"));
        assert_eq!(g.http, None);
        assert!(NoProxy::parse(&g.ignore, false).unwrap().matches("x.corp", 443));
        assert_eq!(gnome("'none'", ("'p'", "1"), ("''", "0"), "@as []"), None);
        assert_eq!(gnome("'auto'", ("'p'", "1"), ("''", "0"), "@as []"), None);
        assert_eq!(gnome("'manual'", ("''", "0"), ("''", "0"), "@as []"), None);

        let w = windows(true, "http=p1:80;https=p2:8443", "<local>;*.corp.example").unwrap();
        assert_eq!((w.https.as_deref(), w.http.as_deref()), (Some("p2:8443"), Some("p1:80")));
        assert!(NoProxy::parse(&w.ignore, false).unwrap().matches("a.corp.example", 443));
        assert_eq!(windows(true, "p:3128", "").unwrap().https.as_deref(), Some("p:3128"));
        assert_eq!(windows(false, "p:3128", ""), None);

        let out = "<dictionary> {\n  ExceptionsList : <array> {\n    0 : *.local\n    1 : 169.254/16\n  }\n  HTTPEnable : 0\n  HTTPSEnable : 1\n  HTTPSPort : 8080\n  HTTPSProxy : proxy.mac\n}\n";
        let m = macos(out).unwrap();
        assert_eq!((m.https.as_deref(), m.http.as_deref()), (Some("proxy.mac:8080"), None));
        assert!(NoProxy::parse(&m.ignore, false).unwrap().matches("printer.local", 443));
        assert_eq!(macos("<dictionary> {\n  HTTPEnable : 0\n}\n"), None);
    }
}
