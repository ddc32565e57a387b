//! Token and Graph requests through a real Squid on loopback (tests/src/squid.rs).
//!
//! The fake Entra ID + Graph serves HTTPS as `login.entra.test` (certificate from a test CA
//! given to `postdesk` through `SSL_CERT_FILE`); that name resolves only in Squid's
//! `hosts_file`, so a mail is sent only when the requests really went through Squid, and
//! Squid's access log shows them. Each test starts its own Squid (own config dir, free port).

use std::path::Path;
use std::process::{Command, Stdio};

use postdesk_tests::fake_entra::{standard_tenant, FakeEntra};
use postdesk_tests::squid::{test_ca, Options, Squid, TestCa};
use postdesk_tests::{configure, postdesk_bin, require_keychain, Run};
use serde_json::Value;

const HOST: &str = "login.entra.test";
const TENANT: &str = "9a1c0d2e-3f40-4b5c-8d6e-7f8091a2b3c4";
const DOMAIN: &str = "fabrikam.example";
const CLIENT: &str = "0b1c2d3e-4f50-4a6b-9c7d-8e9fa0b1c2d3";
const SECRET: &str = "fabrikam~app~secret";
const SENDER: &str = "sender@fabrikam.example";
const PROXY_USER: &str = "alice";
const PROXY_PASSWORD: &str = "proxy-canary-Pw-7731";

/// The fake Entra/Graph over TLS as `login.entra.test`, and its CA.
fn fake() -> (TestCa, FakeEntra) {
    let ca = test_ca(&[HOST, "denied.entra.test"]);
    let f = FakeEntra::start_tls(HOST, &ca.cert_pem, &ca.key_pem);
    f.add_tenant(standard_tenant(TENANT, DOMAIN, CLIENT, SECRET, "http://localhost/postdesk/callback", SENDER, "pw"));
    (ca, f)
}

/// A Squid whose hosts file is the only place the test names resolve.
fn squid(auth: bool, deny: &[&str]) -> Squid {
    Squid::start(&Options { hosts: &[(HOST, "127.0.0.1"), ("denied.entra.test", "127.0.0.1"), ("gone.entra.test", "127.0.0.1")], auth: auth.then_some((PROXY_USER, PROXY_PASSWORD)), deny })
}

/// A data dir sending through Graph (app-only) at `authority`, with the client secret stored.
fn graph_dir(authority: &str, extra: &[(&str, &str)]) -> tempfile::TempDir {
    require_keychain();
    let d = tempfile::tempdir().unwrap();
    let mut pairs = vec![
        ("global.enabled", "true"),
        ("global.sender.address", SENDER),
        ("global.auth", "m365-graph"),
        ("global.m365.tenant", TENANT),
        ("global.m365.client_id", CLIENT),
        ("global.m365.flow", "app"),
        ("global.m365.authority", authority),
        ("global.m365.graph_url", authority),
        ("global.m365.allow_custom_endpoints", "true"),
    ];
    pairs.extend_from_slice(extra);
    configure(d.path(), &pairs);
    secret(d.path(), "global.m365.client_secret", SECRET);
    d
}

fn secret(d: &Path, key: &str, value: &str) {
    let run = cli(d, &["secret", "set", key], Some(&format!("{value}\n")), &[], None);
    assert_eq!(run.code, 0, "{run:?}");
}

/// `postdesk` with no proxy variables of the caller's environment, plus `env`, trusting `ca`.
fn cli(d: &Path, args: &[&str], stdin: Option<&str>, env: &[(&str, &str)], ca: Option<&Path>) -> Run {
    use std::io::Write;
    let mut cmd = Command::new(postdesk_bin());
    for v in ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy", "POSTDESK_DATA_DIR"] {
        cmd.env_remove(v);
    }
    if let Some(ca) = ca {
        cmd.env("SSL_CERT_FILE", ca).env_remove("SSL_CERT_DIR");
    }
    let mut child = cmd.envs(env.iter().copied()).arg("--data-dir").arg(d).args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("postdesk starts");
    {
        let mut input = child.stdin.take().unwrap();
        if let Some(t) = stdin {
            input.write_all(t.as_bytes()).unwrap();
        }
    }
    let out = child.wait_with_output().unwrap();
    Run { code: out.status.code().unwrap_or(-1), stdout: String::from_utf8_lossy(&out.stdout).into_owned(), stderr: String::from_utf8_lossy(&out.stderr).into_owned() }
}

fn test_mail(d: &Path, ca: &TestCa, env: &[(&str, &str)]) -> (Run, Value) {
    let run = cli(d, &["test-mail", "--to", "bob@example.test", "--json"], None, env, Some(&ca.ca_file));
    let v: Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {run:?}"));
    (run, v)
}

fn step<'a>(r: &'a Value, stage: &str) -> Option<&'a Value> {
    r["steps"].as_array().unwrap().iter().find(|s| s["stage"] == stage)
}

fn failed_at(run: &Run, r: &Value, stage: &str, hint: &str) {
    assert_eq!(r["ok"], false, "{r}");
    assert_eq!(r["failed_stage"], stage, "{r}");
    let got = r["hint"].as_str().unwrap_or_default();
    assert!(got.contains(hint), "hint {got:?} lacks {hint:?}: {r}");
    assert_eq!(run.code, 1, "{run:?}");
}

fn no_password_in(run: &Run) {
    assert!(!run.stdout.contains(PROXY_PASSWORD) && !run.stderr.contains(PROXY_PASSWORD), "{run:?}");
}

#[test]
fn token_and_graph_go_through_squid_and_only_through_it() {
    let (ca, f) = fake();
    let sq = squid(false, &[]);
    let d = graph_dir(&f.url(), &[]);
    // Without the proxy the name does not resolve on this machine: nothing is sent.
    let (run, r) = test_mail(d.path(), &ca, &[]);
    assert_eq!(r["failed_stage"], "token", "{r}");
    assert!(step(&r, "proxy").is_none(), "{r}");
    assert!(r["error"].as_str().unwrap().contains(HOST), "{run:?}");
    assert!(f.sent().is_empty());

    configure(d.path(), &[("proxy.url", &sq.url())]);
    let (run, r) = test_mail(d.path(), &ca, &[]);
    assert_eq!(r["ok"], true, "{run:?}");
    let proxy = step(&r, "proxy").expect("a proxy step");
    let detail = proxy["detail"].as_str().unwrap();
    assert!(detail.contains(&format!("proxy 127.0.0.1:{} (from proxy.url)", sq.port)) && detail.contains("200"), "{detail}");
    // The proxy step comes before the token.
    let stages: Vec<&str> = r["steps"].as_array().unwrap().iter().map(|s| s["stage"].as_str().unwrap()).collect();
    assert_eq!(stages, ["config", "limits", "proxy", "token", "graph", "delivered"]);
    assert_eq!(f.sent().len(), 1);
    assert_eq!(f.sent()[0].from, SENDER);
    // Squid carried the probe, the token request and Graph's sendMail, all tunnelled.
    let target = format!("CONNECT {HOST}:{}", f.addr.port());
    sq.wait_for_log(&["TCP_TUNNEL/200", &target]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while sq.access_log().lines().filter(|l| l.contains(&target) && l.contains("TCP_TUNNEL/200")).count() < 3 {
        assert!(std::time::Instant::now() < deadline, "{}", sq.access_log());
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn basic_auth_407_without_and_with_wrong_credentials_then_through() {
    let (ca, f) = fake();
    let sq = squid(true, &[]);
    let d = graph_dir(&f.url(), &[("proxy.url", &sq.url())]);
    let (run, r) = test_mail(d.path(), &ca, &[]);
    failed_at(&run, &r, "proxy", "proxy.username");
    assert!(r["error"].as_str().unwrap().contains("407") && r["error"].as_str().unwrap().contains("no credentials sent"), "{r}");
    assert!(step(&r, "token").is_none(), "{r}");
    sq.wait_for_log(&["TCP_DENIED/407", "CONNECT"]);

    configure(d.path(), &[("proxy.username", PROXY_USER)]);
    secret(d.path(), "proxy.password", "not-the-password-5519");
    let (run, r) = test_mail(d.path(), &ca, &[]);
    failed_at(&run, &r, "proxy", "proxy.username");
    assert!(r["error"].as_str().unwrap().contains("credentials of user alice sent"), "{r}");
    assert!(!run.stdout.contains("not-the-password-5519"), "{run:?}");
    assert!(f.sent().is_empty());

    secret(d.path(), "proxy.password", PROXY_PASSWORD);
    let (run, r) = test_mail(d.path(), &ca, &[]);
    assert_eq!(r["ok"], true, "{run:?}");
    no_password_in(&run);
    assert!(step(&r, "proxy").unwrap()["detail"].as_str().unwrap().contains("user alice"), "{r}");
    assert_eq!(f.sent().len(), 1);
    // Squid logged the user it let through.
    sq.wait_for_log(&["TCP_TUNNEL/200", PROXY_USER, HOST]);
    // The password is in the keychain only: not in the settings file.
    let file = std::fs::read_to_string(d.path().join("config.json")).unwrap();
    assert!(!file.contains(PROXY_PASSWORD) && file.contains("\"username\": \"alice\""), "{file}");
}

#[test]
fn a_host_the_proxy_denies_gets_403_and_its_hint() {
    let (ca, f) = fake();
    let sq = squid(false, &["denied.entra.test"]);
    let d = graph_dir(&format!("https://denied.entra.test:{}", f.addr.port()), &[("proxy.url", &sq.url())]);
    let (run, r) = test_mail(d.path(), &ca, &[]);
    failed_at(&run, &r, "proxy", "policy denies");
    assert!(r["error"].as_str().unwrap().contains("answered 403"), "{r}");
    sq.wait_for_log(&["TCP_DENIED/403", "denied.entra.test"]);
}

#[test]
fn a_host_the_proxy_cannot_reach_gets_503_and_its_hint() {
    let (ca, _f) = fake();
    let sq = squid(false, &[]);
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let d = graph_dir(&format!("https://gone.entra.test:{port}"), &[("proxy.url", &sq.url())]);
    let (run, r) = test_mail(d.path(), &ca, &[]);
    failed_at(&run, &r, "proxy", "cannot reach the host");
    assert!(r["error"].as_str().unwrap().contains("answered 503"), "{r}");
    sq.wait_for_log(&["/503", &format!("gone.entra.test:{port}")]);
}

#[test]
fn an_unreachable_proxy_gets_its_hint() {
    let (ca, f) = fake();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let d = graph_dir(&f.url(), &[("proxy.url", &format!("http://127.0.0.1:{port}"))]);
    let (run, r) = test_mail(d.path(), &ca, &[]);
    failed_at(&run, &r, "proxy", "cannot be reached");
    assert!(r["error"].as_str().unwrap().contains(&format!("cannot connect to the proxy 127.0.0.1:{port}")), "{r}");
}

#[test]
fn environment_proxy_no_proxy_and_settings_precedence() {
    let (ca, f) = fake();
    let sq = squid(false, &[]);
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://127.0.0.1:{}", closed.local_addr().unwrap().port());
    drop(closed);
    let d = graph_dir(&f.url(), &[]);
    // HTTPS_PROXY, upper and lower case.
    for var in ["HTTPS_PROXY", "https_proxy"] {
        let (run, r) = test_mail(d.path(), &ca, &[(var, &sq.url())]);
        assert_eq!(r["ok"], true, "{run:?}");
        assert!(step(&r, "proxy").unwrap()["detail"].as_str().unwrap().contains(&format!("(from {var})")), "{r}");
    }
    assert_eq!(f.sent().len(), 2);
    // NO_PROXY (a suffix) sends the requests straight: the name does not resolve here.
    for no in [".entra.test", "entra.test", "*"] {
        let (_, r) = test_mail(d.path(), &ca, &[("HTTPS_PROXY", &sq.url()), ("NO_PROXY", no)]);
        assert_eq!(r["failed_stage"], "token", "{no}: {r}");
        assert!(step(&r, "proxy").is_none(), "{r}");
    }
    // The settings win over the environment.
    configure(d.path(), &[("proxy.url", &sq.url())]);
    let (run, r) = test_mail(d.path(), &ca, &[("HTTPS_PROXY", &dead)]);
    assert_eq!(r["ok"], true, "{run:?}");
    assert!(step(&r, "proxy").unwrap()["detail"].as_str().unwrap().contains("(from proxy.url)"), "{r}");
    // …and so does their own no-proxy list (the environment's is not read then).
    configure(d.path(), &[("proxy.no_proxy", "10.0.0.0/8, .entra.test")]);
    let (_, r) = test_mail(d.path(), &ca, &[("HTTPS_PROXY", &sq.url())]);
    assert_eq!(r["failed_stage"], "token", "{r}");
    assert!(step(&r, "proxy").is_none(), "{r}");
    assert_eq!(f.sent().len(), 3);
}

#[test]
fn proxy_settings_are_validated_naming_the_key() {
    let d = tempfile::tempdir().unwrap();
    for (key, bad, says) in [
        ("proxy.url", "https://p.example:3128", "http://host:port"),
        ("proxy.url", "http://user:pw@p.example:3128", "keychain"),
        ("proxy.url", "p.example", "http://host:port"),
        ("proxy.no_proxy", "ok.example, 10.0.0.0/40", "10.0.0.0/40"),
    ] {
        let run = cli(d.path(), &["config", "set", key, bad], None, &[], None);
        assert_eq!(run.code, 2, "{key}={bad}: {run:?}");
        assert!(run.stderr.contains(key) && run.stderr.contains(says), "{key}={bad}: {run:?}");
        assert!(!run.stderr.contains("user:pw"), "{run:?}");
    }
    let run = cli(d.path(), &["config", "set", "proxy.url", "http://proxy.example:3128"], None, &[], None);
    assert_eq!(run.code, 0, "{run:?}");
    let run = cli(d.path(), &["config", "get", "proxy.url"], None, &[], None);
    assert_eq!(run.stdout.trim(), "http://proxy.example:3128");
}

/// GNOME's proxy setting, read through the real `gsettings` (GLib's keyfile backend under a
/// throwaway config dir, so the desktop's own settings are not touched).
#[test]
fn the_gnome_proxy_setting_is_used_when_nothing_else_is_set() {
    let (ca, f) = fake();
    let sq = squid(false, &[]);
    let d = graph_dir(&f.url(), &[]);
    let conf = tempfile::tempdir().unwrap();
    let conf_dir = conf.path().to_str().unwrap();
    let gnome = [("GSETTINGS_BACKEND", "keyfile"), ("XDG_CONFIG_HOME", conf_dir)];
    let gset = |schema: &str, key: &str, value: &str| {
        let ok = Command::new("gsettings").envs(gnome).args(["set", schema, key, value]).status().expect("gsettings (libglib2.0-bin) runs");
        assert!(ok.success(), "gsettings set {schema} {key} {value}");
    };
    gset("org.gnome.system.proxy", "mode", "manual");
    gset("org.gnome.system.proxy.https", "host", "127.0.0.1");
    gset("org.gnome.system.proxy.https", "port", &sq.port.to_string());
    gset("org.gnome.system.proxy", "ignore-hosts", "['localhost', '127.0.0.0/8', '::1']");
    let (run, r) = test_mail(d.path(), &ca, &gnome);
    assert_eq!(r["ok"], true, "{run:?}");
    assert!(step(&r, "proxy").unwrap()["detail"].as_str().unwrap().contains("(from GNOME org.gnome.system.proxy)"), "{r}");
    sq.wait_for_log(&["TCP_TUNNEL/200", HOST]);
    // Its ignore list sends the requests straight (the name does not resolve here).
    gset("org.gnome.system.proxy", "ignore-hosts", "['localhost', '*.entra.test']");
    let (_, r) = test_mail(d.path(), &ca, &gnome);
    assert_eq!(r["failed_stage"], "token", "{r}");
    assert!(step(&r, "proxy").is_none(), "{r}");
    // The environment wins over the desktop.
    gset("org.gnome.system.proxy", "ignore-hosts", "['localhost']");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://127.0.0.1:{}", closed.local_addr().unwrap().port());
    drop(closed);
    let mut env = gnome.to_vec();
    env.push(("HTTPS_PROXY", &dead));
    let (run, r) = test_mail(d.path(), &ca, &env);
    failed_at(&run, &r, "proxy", "cannot be reached");
    assert!(r["error"].as_str().unwrap().contains("from HTTPS_PROXY"), "{r}");
    // Mode "none": no proxy at all.
    gset("org.gnome.system.proxy", "mode", "none");
    let (_, r) = test_mail(d.path(), &ca, &gnome);
    assert_eq!(r["failed_stage"], "token", "{r}");
    assert_eq!(f.sent().len(), 1);
}

/// TLS to Entra is verified end to end through the tunnel: a certificate from a CA this
/// machine does not trust (as a TLS-inspecting proxy's would be) is refused, with the hint
/// to add the organization's CA to the system store.
#[test]
fn the_origin_certificate_is_verified_through_the_tunnel() {
    let (_ca, f) = fake();
    let other = test_ca(&[HOST]);
    let sq = squid(false, &[]);
    let d = graph_dir(&f.url(), &[("proxy.url", &sq.url())]);
    let (run, r) = test_mail(d.path(), &other, &[]);
    failed_at(&run, &r, "token", "TLS-inspecting proxy");
    assert!(step(&r, "proxy").unwrap()["ok"] == true, "{r}");
    assert!(r["error"].as_str().unwrap().contains("UnknownIssuer"), "{r}");
    assert!(f.sent().is_empty());
}

/// `postdesk login --browser` behind the proxy: the "browser" (curl, as a person's browser
/// would, through the proxy: the sign-in host resolves nowhere else) signs in, and Postdesk's
/// own token exchange after the loopback redirect goes through `proxy.url` too.
#[test]
fn the_system_browser_sign_in_exchanges_its_code_through_the_proxy() {
    let (ca, f) = fake();
    let sq = squid(false, &[]);
    let d = graph_dir(&f.url(), &[("global.m365.flow", "delegated"), ("proxy.url", &sq.url())]);
    let scratch = tempfile::tempdir().unwrap();
    let browser = scratch.path().join("browser.sh");
    std::fs::write(
        &browser,
        format!(
            r#"#!/bin/sh
set -eu
url="$1"
via="--proxy {proxy} --cacert {ca} --noproxy localhost,127.0.0.1,::1"
page=$(curl -sf $via "$url")
echo "$page" | grep -q 'id="accept"' || {{ echo "no sign-in form" >&2; exit 1; }}
location=$(curl -s $via -o /dev/null -w '%{{redirect_url}}' --data "${{url#*\?}}" --data-urlencode "login={user}" \
  --data-urlencode "passwd=pw" --data consent=accept "${{url%%\?*}}")
echo "$location" >"{dir}/redirect"
curl -s $via "$location" >"{dir}/answer" || true
"#,
            proxy = sq.url(),
            ca = ca.ca_file.display(),
            user = SENDER,
            dir = scratch.path().display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&browser, std::fs::Permissions::from_mode(0o755)).unwrap();
    let tunnels = |log: &str| log.lines().filter(|l| l.contains("TCP_TUNNEL/200") && l.contains(&format!("CONNECT {HOST}:"))).count();

    let run = cli(d.path(), &["login", "--browser", "--timeout", "20"], None, &[("BROWSER", browser.to_str().unwrap())], Some(&ca.ca_file));
    assert_eq!(run.code, 0, "{run:?} {:?}", std::fs::read_to_string(scratch.path().join("answer")));
    assert_eq!(run.stdout.trim(), format!("Signed in as {SENDER}"));
    let redirect = std::fs::read_to_string(scratch.path().join("redirect")).unwrap();
    assert!(redirect.starts_with("http://localhost:") && redirect.contains("code="), "{redirect}");
    // The browser's two requests (page, form) and Postdesk's code exchange: three tunnels.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while tunnels(&sq.access_log()) < 3 {
        assert!(std::time::Instant::now() < deadline, "{}", sq.access_log());
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // The refresh token it stored works through the proxy too.
    let (run, r) = test_mail(d.path(), &ca, &[]);
    assert_eq!(r["ok"], true, "{run:?}");
    assert_eq!(f.sent().len(), 1);
}
