//! Sending through real Postfix + Dovecot (started once by `make test`, tests/mailstack) and
//! through small fault servers: every SMTP row of ERRORS.md gives its stage and hint within
//! its time bound, and delivered mail is read back from the Maildir sink.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use postdesk_core::secrets::Keychain;
use postdesk_core::Secret;
use postdesk_tests::fault::{self, Fault, Script};
use postdesk_tests::{configure, mailstack, postdesk, require_keychain, unique_local, wait_for_mail, Run};
use serde_json::Value;

struct Env {
    vars: HashMap<String, String>,
}

impl Env {
    fn new() -> Env {
        Env { vars: mailstack() }
    }
    fn get(&self, key: &str) -> &str {
        self.vars.get(key).unwrap_or_else(|| panic!("{key} missing from the mail stack env"))
    }
    fn sink(&self) -> PathBuf {
        PathBuf::from(self.get("MAIL_SINK"))
    }
}

/// A data dir configured for one server on 127.0.0.1.
fn server(port: &str, extra: &[(&str, &str)]) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let mut pairs = vec![
        ("global.enabled", "true"),
        ("global.host", "127.0.0.1"),
        ("global.port", port),
        ("global.sender.address", "it@example.test"),
        ("global.sender.name", "Jörg's IT Desk"),
        ("global.reply_to.address", "helpdesk@example.test"),
        ("global.reply_to.name", "Help Desk"),
        ("global.timeout_secs", "5"),
    ];
    pairs.extend_from_slice(extra);
    configure(d.path(), &pairs);
    d
}

fn with_password(d: &Path, env: &Env, password: &str) {
    require_keychain();
    configure(d, &[("global.auth", "password"), ("global.username", env.get("MAIL_USER"))]);
    Keychain::for_data_dir(d).set("global.password", &Secret::new(password)).unwrap();
}

struct Outcome {
    report: Value,
    run: Run,
    elapsed: Duration,
}

fn test_mail(d: &Path, to: &str, extra: &[&str]) -> Outcome {
    let mut args = vec!["test-mail", "--to", to, "--json"];
    args.extend_from_slice(extra);
    let t0 = Instant::now();
    let run = postdesk(d, &args, None);
    let elapsed = t0.elapsed();
    let report: Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {run:?}"));
    Outcome { report, run, elapsed }
}

impl Outcome {
    fn delivered(&self) {
        assert_eq!(self.report["ok"], true, "{}", self.report);
        assert_eq!(self.run.code, 0);
        assert_eq!(self.report["steps"].as_array().unwrap().last().unwrap()["stage"], "delivered");
        assert!(self.report["failed_stage"].is_null() && self.report["hint"].is_null());
    }

    /// Failed at `stage` with a hint containing `hint`, and the last step took at most `max`.
    fn failed(&self, stage: &str, hint: &str, max: Duration) -> &Self {
        assert_eq!(self.report["ok"], false, "{}", self.report);
        assert_eq!(self.report["failed_stage"], stage, "{}", self.report);
        let got = self.report["hint"].as_str().unwrap_or_default();
        assert!(got.contains(hint), "hint {got:?} lacks {hint:?}: {}", self.report);
        let last = self.report["steps"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(last["ok"], false);
        let ms = last["ms"].as_u64().unwrap();
        assert!(ms <= max.as_millis() as u64, "{stage} took {ms} ms, more than {max:?}");
        assert_eq!(self.run.code, if stage == "config" { 2 } else { 1 }, "{:?}", self.run);
        self
    }

    fn error_contains(&self, text: &str) -> &Self {
        let error = self.report["error"].as_str().unwrap_or_default();
        assert!(error.contains(text), "error {error:?} lacks {text:?}");
        self
    }
}

fn quick() -> Duration {
    Duration::from_millis(1500)
}

// --- delivered through each security mode ----------------------------------------------------

#[test]
fn plain_smtp_delivers_with_encoded_headers() {
    let env = Env::new();
    let d = server(env.get("MAIL_PLAIN_PORT"), &[]);
    let to = format!("{}@example.test", unique_local("plain"));
    let out = test_mail(d.path(), &to, &[]);
    out.delivered();
    let stages: Vec<&str> = out.report["steps"].as_array().unwrap().iter().map(|s| s["stage"].as_str().unwrap()).collect();
    assert_eq!(stages, ["config", "limits", "dns", "connect", "banner", "ehlo", "mail_from", "rcpt_to", "data", "delivered"]);
    let mail = wait_for_mail(&env.sink(), &format!("To: {to}"));
    // UTF-8 headers off: RFC 2047 for the display name and the subject.
    assert!(mail.contains("From: =?UTF-8?B?"), "{mail}");
    assert!(mail.contains("Subject: =?UTF-8?B?"), "{mail}");
    assert!(mail.contains("Reply-To: Help Desk <helpdesk@example.test>"), "{mail}");
    assert!(mail.contains("Message-ID: <") && mail.contains("Date: "), "{mail}");
    assert!(mail.contains("This is a test mail from Postdesk.") && mail.contains("Server:          127.0.0.1:"), "{mail}");
    assert!(mail.is_ascii() || !mail.split("\n\n").next().unwrap().chars().any(|c| !c.is_ascii()), "headers are ASCII");
}

#[test]
fn starttls_with_password_delivers_and_never_shows_the_password() {
    let env = Env::new();
    let d = server(env.get("MAIL_SUBMISSION_PORT"), &[("global.security", "starttls"), ("global.ca_file", env.get("MAIL_CA_FILE"))]);
    with_password(d.path(), &env, env.get("MAIL_PASSWORD"));
    let to = format!("{}@example.test", unique_local("starttls"));
    let out = test_mail(d.path(), &to, &[]);
    out.delivered();
    let steps = out.report["steps"].as_array().unwrap();
    let tls = steps.iter().find(|s| s["stage"] == "tls").unwrap()["detail"].as_str().unwrap();
    assert!(tls.contains("TLS") && tls.contains("subject:") && tls.contains("issuer:") && tls.contains("expires:"), "{tls}");
    assert_eq!(steps.iter().filter(|s| s["stage"] == "ehlo").count(), 2, "EHLO again after STARTTLS");
    let transcript: Vec<&str> = out.report["transcript"].as_array().unwrap().iter().map(|l| l.as_str().unwrap()).collect();
    assert!(transcript.contains(&"C: AUTH PLAIN <redacted>"), "{transcript:?}");
    for text in [&out.run.stdout, &out.run.stderr] {
        assert!(!text.contains(env.get("MAIL_PASSWORD")));
        // Nor its base64 inside an AUTH PLAIN line.
        assert!(!text.contains("AHNlbmRlc"), "base64 credentials leaked");
    }
    wait_for_mail(&env.sink(), &format!("To: {to}"));
    // The human output streams the same steps and tells the outcome.
    let human = postdesk(d.path(), &["test-mail", "--to", &to], None);
    assert_eq!(human.code, 0, "{human:?}");
    assert!(human.stdout.contains("✓ tls") && human.stdout.contains("Delivered"), "{}", human.stdout);
    assert!(!human.stdout.contains(env.get("MAIL_PASSWORD")));
}

#[test]
fn implicit_tls_delivers() {
    let env = Env::new();
    let d = server(env.get("MAIL_SMTPS_PORT"), &[("global.security", "tls"), ("global.ca_file", env.get("MAIL_CA_FILE"))]);
    with_password(d.path(), &env, env.get("MAIL_PASSWORD"));
    let to = format!("{}@example.test", unique_local("smtps"));
    let out = test_mail(d.path(), &to, &[]);
    out.delivered();
    let stages: Vec<&str> = out.report["steps"].as_array().unwrap().iter().map(|s| s["stage"].as_str().unwrap()).collect();
    assert_eq!(&stages[..6], ["config", "limits", "dns", "connect", "tls", "banner"], "TLS comes before the greeting");
    wait_for_mail(&env.sink(), &format!("To: {to}"));
}

#[test]
fn utf8_headers_send_raw_utf8_through_smtputf8() {
    let env = Env::new();
    let d = server(env.get("MAIL_PLAIN_PORT"), &[("global.utf8_headers", "true"), ("global.sender.address", "jörg@bücher.example")]);
    let to = format!("{}@bücher.example", unique_local("größe"));
    let out = test_mail(d.path(), &to, &[]);
    out.delivered();
    let mail = wait_for_mail(&env.sink(), &format!("To: {to}"));
    assert!(mail.contains("From: Jörg's IT Desk <jörg@bücher.example>"), "{mail}");
    assert!(mail.contains("Subject: Postdesk test mail ✓ 127.0.0.1:"), "{mail}");
}

#[test]
fn sendmail_transport_hands_over_to_the_local_postfix() {
    let env = Env::new();
    let wrapper = Path::new(env.get("MAIL_DIR")).join("sendmail-wrapper");
    let postfix_conf = Path::new(env.get("MAIL_DIR")).join("postfix");
    std::fs::write(&wrapper, format!("#!/bin/sh\nexec /usr/sbin/sendmail -C {} \"$@\"\n", postfix_conf.display())).unwrap();
    std::process::Command::new("chmod").args(["755", wrapper.to_str().unwrap()]).status().unwrap();
    let d = server("25", &[("global.email_type", "sendmail"), ("global.sendmail_path", wrapper.to_str().unwrap())]);
    let to = format!("{}@example.test", unique_local("sendmail"));
    let out = test_mail(d.path(), &to, &[]);
    out.delivered();
    let mail = wait_for_mail(&env.sink(), &format!("To: {to}"));
    assert!(mail.contains("the sendmail program"), "{mail}");
}

#[test]
fn send_reads_a_message_on_stdin_like_sendmail() {
    let env = Env::new();
    let d = server(env.get("MAIL_PLAIN_PORT"), &[]);
    let to = format!("{}@example.test", unique_local("send-t"));
    let hidden = format!("{}@example.test", unique_local("bcc"));
    let message = format!("From: it@example.test\nTo: {to}\nBcc: {hidden}\nSubject: from stdin\n\n.leading dot line\nbye\n");
    let r = postdesk(d.path(), &["send", "-t", "-i"], Some(&message));
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.is_empty(), "sendmail-compatible: quiet on success");
    let mail = wait_for_mail(&env.sink(), &format!("To: {to}"));
    assert!(mail.contains("Subject: from stdin") && mail.contains("\n.leading dot line"), "{mail}");
    assert!(!mail.lines().any(|l| l.starts_with("Bcc:")), "Bcc removed from the message: {mail}");
    // The Bcc recipient gets its copy all the same.
    let copy = wait_for_mail(&env.sink(), &format!("Delivered-To: {hidden}"));
    assert!(!copy.contains(&format!("Bcc: {hidden}")));
}

// --- failures from the real server -----------------------------------------------------------

#[test]
fn wrong_password_fails_at_auth() {
    let env = Env::new();
    let d = server(env.get("MAIL_SUBMISSION_PORT"), &[("global.security", "starttls"), ("global.ca_file", env.get("MAIL_CA_FILE"))]);
    with_password(d.path(), &env, "not-the-password");
    let out = test_mail(d.path(), "a@example.test", &[]);
    out.failed("auth", "Username or password not accepted", quick()).error_contains("535 5.7.8");
    assert!(!out.run.stdout.contains("not-the-password"));
}

#[test]
fn expired_certificate_fails_at_tls() {
    let env = Env::new();
    let d = server(env.get("MAIL_EXPIRED_PORT"), &[("global.security", "starttls"), ("global.ca_file", env.get("MAIL_CA_FILE"))]);
    test_mail(d.path(), "a@example.test", &[]).failed("tls", "has expired", quick()).error_contains("expired");
}

#[test]
fn certificate_for_another_name_fails_at_tls() {
    let env = Env::new();
    let d = server(env.get("MAIL_WRONGHOST_PORT"), &[("global.security", "starttls"), ("global.ca_file", env.get("MAIL_CA_FILE"))]);
    test_mail(d.path(), "a@example.test", &[]).failed("tls", "use the host name on the certificate", quick());
}

#[test]
fn unknown_issuer_fails_at_tls_and_suggests_the_ca_file() {
    let env = Env::new();
    let d = server(env.get("MAIL_SUBMISSION_PORT"), &[("global.security", "starttls")]);
    test_mail(d.path(), "a@example.test", &[]).failed("tls", "add the CA file", quick());
}

#[test]
fn verification_off_connects_but_says_so() {
    let env = Env::new();
    let d = server(env.get("MAIL_EXPIRED_PORT"), &[("global.security", "starttls"), ("global.tls_verify", "false")]);
    with_password(d.path(), &env, env.get("MAIL_PASSWORD"));
    let to = format!("{}@example.test", unique_local("noverify"));
    let out = test_mail(d.path(), &to, &[]);
    out.delivered();
    let tls = out.report["steps"].as_array().unwrap().iter().find(|s| s["stage"] == "tls").unwrap()["detail"].as_str().unwrap().to_string();
    assert!(tls.contains("NOT verified"), "{tls}");
    let check = postdesk(d.path(), &["check"], None);
    assert!(check.stdout.contains("global.tls_verify: warning"), "{}", check.stdout);
}

#[test]
fn starttls_required_but_not_offered_is_never_downgraded() {
    let env = Env::new();
    let d = server(env.get("MAIL_NOTLS_PORT"), &[("global.security", "starttls")]);
    let out = test_mail(d.path(), "a@example.test", &[]);
    out.failed("tls", "enable STARTTLS on the server", quick());
    let transcript = out.report["transcript"].to_string();
    assert!(!transcript.contains("MAIL FROM"), "nothing sent in the clear: {transcript}");
}

#[test]
fn utf8_headers_on_a_server_without_smtputf8_fail_at_ehlo() {
    let env = Env::new();
    let d = server(env.get("MAIL_NOUTF8_PORT"), &[("global.utf8_headers", "true")]);
    test_mail(d.path(), "a@example.test", &[]).failed("ehlo", "turn UTF-8 headers off", quick()).error_contains("SMTPUTF8");
}

#[test]
fn relay_denied_fails_at_rcpt_to() {
    let env = Env::new();
    let d = server(env.get("MAIL_PLAIN_PORT"), &[]);
    test_mail(d.path(), "someone@other.example", &[]).failed("rcpt_to", "does not relay", quick()).error_contains("554 5.7.1");
}

#[test]
fn no_auth_advertised_fails_at_auth() {
    let env = Env::new();
    let d = server(env.get("MAIL_PLAIN_PORT"), &[]);
    with_password(d.path(), &env, env.get("MAIL_PASSWORD"));
    test_mail(d.path(), "a@example.test", &[]).failed("auth", "offers no login", quick());
}

#[test]
fn a_message_over_the_size_limit_fails_at_data() {
    let env = Env::new();
    let d = server(env.get("MAIL_SMALL_PORT"), &[]);
    let big = format!("From: it@example.test\nTo: a@example.test\nSubject: big\n\n{}\n", "x".repeat(76).repeat(80).as_str());
    let r = postdesk(d.path(), &["send", "a@example.test"], Some(&big));
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("failed at data: 552"), "{}", r.stderr);
    assert!(r.stderr.contains("exceeds the server's size limit"), "{}", r.stderr);
}

// --- failures from fault servers -------------------------------------------------------------

fn fault_server(f: Fault) -> tempfile::TempDir {
    server(&fault::start(f).to_string(), &[])
}

/// The configured timeout is 2 s: a hanging peer is reported within 2 s + 10 %.
const TWO: &[&str] = &["--timeout", "2"];
fn within_timeout() -> Duration {
    Duration::from_millis(2200)
}

#[test]
fn silent_server_fails_at_banner_within_the_timeout() {
    let d = fault_server(Fault::Silent);
    let out = test_mail(d.path(), "a@example.test", TWO);
    out.failed("banner", "does not speak SMTP", within_timeout());
    let ms = out.report["steps"].as_array().unwrap().last().unwrap()["ms"].as_u64().unwrap();
    assert!(ms >= 1900, "waited the timeout: {ms}");
    assert!(out.elapsed < Duration::from_millis(2600), "whole run {:?}", out.elapsed);
}

#[test]
fn slow_banner_fails_at_banner() {
    let d = fault_server(Fault::SlowBanner(Duration::from_secs(20)));
    test_mail(d.path(), "a@example.test", TWO).failed("banner", "does not speak SMTP", within_timeout());
}

#[test]
fn black_holed_host_fails_at_connect_within_the_timeout() {
    let (port, _fillers, _guard) = fault::black_hole();
    let d = server(&port.to_string(), &[]);
    let out = test_mail(d.path(), "a@example.test", TWO);
    out.failed("connect", "firewall drops the traffic", within_timeout()).error_contains("timed out");
    assert!(out.elapsed < Duration::from_millis(2600), "whole run {:?}", out.elapsed);
}

#[test]
fn reset_right_after_connect_fails_at_connect() {
    let d = fault_server(Fault::Reset);
    test_mail(d.path(), "a@example.test", TWO).failed("connect", "closed the connection", quick());
}

#[test]
fn http_on_the_port_is_not_smtp() {
    let d = fault_server(Fault::Http);
    test_mail(d.path(), "a@example.test", TWO).failed("banner", "not an SMTP server", quick()).error_contains("HTTP/1.1");
}

#[test]
fn closed_port_fails_at_connect_refused() {
    let d = server(&fault::closed_port().to_string(), &[]);
    test_mail(d.path(), "a@example.test", TWO).failed("connect", "Nothing listens on that port", quick());
}

#[test]
fn unresolvable_host_fails_at_dns() {
    let d = server("25", &[("global.host", "no-such-host.invalid")]);
    test_mail(d.path(), "a@example.test", TWO).failed("dns", "not resolvable", within_timeout());
}

#[test]
fn banner_421_fails_at_banner() {
    let d = fault_server(Fault::Banner("421 4.3.2 Service not available, closing transmission channel"));
    test_mail(d.path(), "a@example.test", TWO).failed("banner", "refuses service now", quick()).error_contains("421 4.3.2");
}

fn scripted(script: Script, with_auth: bool) -> tempfile::TempDir {
    let d = fault_server(Fault::Smtp(script));
    if with_auth {
        require_keychain();
        configure(d.path(), &[("global.auth", "password"), ("global.username", "it@example.test")]);
        Keychain::for_data_dir(d.path()).set("global.password", &Secret::new("fault-pass")).unwrap();
    }
    d
}

#[test]
fn m365_smtp_auth_disabled_fails_at_auth() {
    let reply = "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information.";
    let d = scripted(Script { auth: Some(reply), ..Script::default() }, true);
    test_mail(d.path(), "a@example.test", TWO).failed("auth", "enable Authenticated SMTP", quick()).error_contains("5.7.139");
}

#[test]
fn m365_basic_auth_blocked_fails_at_auth() {
    let d = scripted(Script { auth: Some("535 5.7.3 Authentication unsuccessful [AM0PR01CA0001.eurprd01.prod.exchangelabs.com]"), ..Script::default() }, true);
    test_mail(d.path(), "a@example.test", TWO).failed("auth", "basic auth is blocked", quick());
}

#[test]
fn send_as_denied_fails_at_mail_from() {
    let reply = "550 5.7.60 SMTP; Client does not have permissions to send as this sender";
    let d = scripted(Script { mail_from: Some(reply), ..Script::default() }, true);
    test_mail(d.path(), "a@example.test", TWO).failed("mail_from", "grant Send As", quick());
}

#[test]
fn unknown_recipient_fails_at_rcpt_to() {
    let d = scripted(Script { rcpt_to: Some("550 5.1.1 <nobody@example.test>: Recipient address rejected: User unknown"), ..Script::default() }, false);
    test_mail(d.path(), "nobody@example.test", TWO).failed("rcpt_to", "does not exist", quick());
}

#[test]
fn global_server_off_fails_at_config() {
    let d = server("587", &[("global.enabled", "false")]);
    test_mail(d.path(), "a@example.test", &[]).failed("config", "No mail is sent at all", quick());
}

#[test]
fn missing_password_fails_at_config_with_exit_2() {
    require_keychain();
    let env = Env::new();
    let d = server(env.get("MAIL_SUBMISSION_PORT"), &[("global.security", "starttls"), ("global.auth", "password"), ("global.username", "x")]);
    test_mail(d.path(), "a@example.test", &[]).failed("config", "Enter the secret", quick()).error_contains("global.password");
}

/// XOAUTH2 at the protocol level (the Microsoft 365 sign-in that provides tokens is a later
/// issue): a refused token is reported as such, not as a wrong password.
#[test]
fn refused_xoauth2_token_is_named() {
    use postdesk_core::model::Security;
    use postdesk_core::smtp::{send, Credentials, Endpoint, Envelope, Recorder};
    let port = fault::start(Fault::Smtp(Script { xoauth2_challenge: Some("535 5.7.3 Authentication unsuccessful"), ..Script::default() }));
    let endpoint = Endpoint { host: "127.0.0.1".into(), port, security: Security::None, tls_verify: true, ca_file: None, timeout: Duration::from_secs(2), data_timeout: Duration::from_secs(2), helo_name: None };
    let creds = Credentials::OAuth2 { username: "it@example.test".into(), token: Secret::new("eyJ0eXAiOi.fake.token") };
    let envelope = Envelope { from: "it@example.test".into(), to: vec!["a@example.test".into()], smtputf8: false };
    let mut sink = |_| {};
    let mut rec = Recorder::new(&mut sink);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let failure = rt.block_on(send(&endpoint, Some(&creds), &envelope, b"Subject: x\r\n\r\nx\r\n", &mut rec)).unwrap_err();
    assert_eq!(failure.stage, postdesk_core::diagnosis::Stage::Auth);
    assert!(failure.error.starts_with("token rejected"), "{}", failure.error);
    let hint = postdesk_core::hints::hint_for(failure.stage, &failure.error).unwrap();
    assert!(hint.contains("access token was refused"), "{hint}");
    assert!(rec.transcript.iter().all(|l| !l.contains("fake.token")), "{:?}", rec.transcript);
}

#[test]
fn auth_5_7_0_is_a_refused_login() {
    let d = scripted(Script { auth: Some("535 5.7.0 Invalid login or password"), ..Script::default() }, true);
    test_mail(d.path(), "a@example.test", TWO).failed("auth", "Username or password not accepted", quick());
}

#[test]
fn send_as_denied_554_5_2_252_fails_at_mail_from() {
    let reply = "554 5.2.252 SendAsDenied; it@example.test not allowed to send as boss@example.test";
    let d = scripted(Script { mail_from: Some(reply), ..Script::default() }, true);
    test_mail(d.path(), "a@example.test", TWO).failed("mail_from", "grant Send As", quick()).error_contains("SendAsDenied");
}

#[test]
fn a_from_route_sends_through_its_own_port() {
    let env = Env::new();
    let d = server(env.get("MAIL_PLAIN_PORT"), &[
        ("route.partner.enabled", "true"),
        ("route.partner.from", "*@partner.example.test"),
        ("route.partner.port", env.get("MAIL_NOTLS_PORT")),
    ]);
    let to = format!("{}@example.test", unique_local("routed"));
    let out = test_mail(d.path(), &to, &["--from", "news@partner.example.test"]);
    out.delivered();
    assert_eq!(out.report["server"]["source"], "route:partner");
    assert_eq!(out.report["server"]["port"].to_string(), env.get("MAIL_NOTLS_PORT"));
    let mail = wait_for_mail(&env.sink(), &format!("To: {to}"));
    assert!(mail.contains("From: Jörg's IT Desk <news@partner.example.test>") || mail.contains("<news@partner.example.test>"), "{mail}");
    // Any other From goes through the global server.
    let other = test_mail(d.path(), &to, &[]);
    other.delivered();
    assert_eq!(other.report["server"]["source"], "global");
    assert_eq!(other.report["server"]["port"].to_string(), env.get("MAIL_PLAIN_PORT"));
}

// --- what leaves on the wire ------------------------------------------------------------------

fn recording(script: Script, extra: &[(&str, &str)]) -> (tempfile::TempDir, std::sync::Arc<std::sync::Mutex<Vec<u8>>>) {
    let data = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let port = fault::start(Fault::Smtp(Script { data: Some(data.clone()), ..script }));
    (server(&port.to_string(), extra), data)
}

/// The SMTP smuggling patterns (`\r.\r\n`, `\n.\n`) and a lone CR never reach the wire as
/// such: every line end leaves as CRLF and every line's leading dot is doubled. A raw
/// recorder shows the bytes (Postfix would repair them and hide the defect).
#[test]
fn bare_cr_and_lf_leave_as_crlf_and_dot_stuffed() {
    let (d, data) = recording(Script::default(), &[]);
    let message = "From: it@example.test\r\nTo: a@example.test\r\nSubject: smuggling\r\nDate: Sun, 6 Dec 2026 05:00:00 +0000\r\nMessage-ID: <smuggling@example.test>\r\n\r\n\
                   one\r.\r\nMAIL FROM:<evil@example.test>\r\ntwo\n.\nthree\rfour\r\n.five\n";
    let r = postdesk(d.path(), &["send", "a@example.test"], Some(message));
    assert_eq!(r.code, 0, "{r:?}");
    let wire = data.lock().unwrap().clone();
    let expected = "From: it@example.test\r\nTo: a@example.test\r\nSubject: smuggling\r\nDate: Sun, 6 Dec 2026 05:00:00 +0000\r\nMessage-ID: <smuggling@example.test>\r\n\r\n\
                    one\r\n..\r\nMAIL FROM:<evil@example.test>\r\ntwo\r\n..\r\nthree\r\nfour\r\n..five\r\n.\r\n";
    assert_eq!(String::from_utf8_lossy(&wire), expected);
}

/// A content filter that takes longer than the step timeout to answer the final dot: the
/// mail was accepted, so it is reported delivered (RFC 5321 §4.5.3.2.6 waits 10 minutes).
#[test]
fn a_slow_reply_to_the_end_of_the_message_is_still_delivered() {
    let d = fault_server(Fault::Smtp(Script { data_reply_after: Some(Duration::from_secs(4)), ..Script::default() }));
    let out = test_mail(d.path(), "a@example.test", TWO);
    out.delivered();
    let data = out.report["steps"].as_array().unwrap().iter().find(|s| s["stage"] == "data").unwrap().clone();
    assert!(data["ms"].as_u64().unwrap() >= 3900, "{data}");
}

/// Silence after the final dot beyond `data_timeout_secs` is a clear timeout that says the
/// mail may still arrive.
#[test]
fn silence_after_the_end_of_the_message_times_out_at_the_data_timeout() {
    let port = fault::start(Fault::Smtp(Script { data_reply_after: Some(Duration::from_secs(30)), ..Script::default() }));
    let d = server(&port.to_string(), &[("global.data_timeout_secs", "3")]);
    let out = test_mail(d.path(), "a@example.test", TWO);
    out.failed("data", "may still be delivered", Duration::from_millis(3500)).error_contains("within 3 s (data_timeout_secs)");
    let ms = out.report["steps"].as_array().unwrap().last().unwrap()["ms"].as_u64().unwrap();
    assert!(ms >= 2900, "waited the data timeout, not the step timeout: {ms}");
}

/// Writing a large message to a slow reader takes longer than the step timeout in all, but
/// bytes keep flowing: the write timeout is an idle timeout, so the mail goes through.
#[test]
fn a_large_message_to_a_slow_reader_is_not_cut_by_the_step_timeout() {
    let (d, data) = recording(Script { slow_data: true, ..Script::default() }, &[("global.timeout_secs", "2")]);
    let line = format!("{}\r\n", "x".repeat(78));
    let message = format!("From: it@example.test\r\nTo: a@example.test\r\nSubject: big\r\nDate: Sun, 6 Dec 2026 05:00:00 +0000\r\nMessage-ID: <big@example.test>\r\n\r\n{}", line.repeat(120_000));
    let t0 = Instant::now();
    let r = postdesk(d.path(), &["send", "a@example.test"], Some(&message));
    let took = t0.elapsed();
    assert_eq!(r.code, 0, "{r:?}");
    assert!(took > Duration::from_secs(3), "the write should outlast the 2 s step timeout to prove anything: {took:?}");
    assert_eq!(data.lock().unwrap().len(), message.len() + 3);
}

// --- the EHLO name ------------------------------------------------------------------------------

/// `helo_name` is the name Postdesk greets the server with: Postfix records it in the
/// Received header it adds, and the test mail's transcript shows it. Unset, Postdesk greets
/// with the address literal of its side of the connection.
#[test]
fn the_ehlo_name_is_what_postfix_records() {
    let env = Env::new();
    for (helo, greeted) in [(Some("mta.client.example.test"), "mta.client.example.test"), (Some("192.0.2.7"), "[192.0.2.7]"), (None, "[127.0.0.1]")] {
        let extra: Vec<(&str, &str)> = helo.map(|h| ("global.helo_name", h)).into_iter().collect();
        let d = server(env.get("MAIL_PLAIN_PORT"), &extra);
        let to = format!("{}@example.test", unique_local("helo"));
        let out = test_mail(d.path(), &to, &[]);
        out.delivered();
        let transcript = out.report.to_string();
        assert!(transcript.contains(&format!("EHLO {greeted}")), "{transcript}");
        let mail = wait_for_mail(&env.sink(), &format!("To: {to}"));
        assert!(mail.contains(&format!("Received: from {greeted} (")), "{mail}");
    }
}

/// A client's own server may have its own EHLO name; unset it inherits the global one.
#[test]
fn a_client_inherits_or_overrides_the_ehlo_name() {
    let env = Env::new();
    let port = env.get("MAIL_PLAIN_PORT");
    let d = server(port, &[("global.helo_name", "global.example.test"), ("client.acme.enabled", "true"), ("client.acme.host", "127.0.0.1"), ("client.acme.port", port), ("client.beta.enabled", "true"), ("client.beta.host", "127.0.0.1"), ("client.beta.port", port), ("client.beta.helo_name", "beta.example.test")]);
    for (client, greeted) in [("acme", "global.example.test"), ("beta", "beta.example.test")] {
        let to = format!("{}@example.test", unique_local("helo-client"));
        let out = test_mail(d.path(), &to, &["--client", client]);
        out.delivered();
        let mail = wait_for_mail(&env.sink(), &format!("To: {to}"));
        assert!(mail.contains(&format!("Received: from {greeted} (")), "{client}: {mail}");
    }
}

/// An EHLO name that is not a host name (a space, a line break: SMTP command injection) is
/// refused when set, naming the key.
#[test]
fn a_bad_ehlo_name_is_refused_naming_the_key() {
    let d = tempfile::tempdir().unwrap();
    for bad in ["two words", "mta.example.test\r\nRCPT TO:<x@example.test>", "-dash.example"] {
        let r = postdesk(d.path(), &["config", "set", "--", "global.helo_name", bad], None);
        assert_ne!(r.code, 0, "{bad:?} was accepted");
        assert!(r.stderr.contains("global.helo_name"), "{r:?}");
    }
}
