//! Receive-before-send against the real Dovecot of tests/mailstack (IMAP and POP3, plain with
//! STARTTLS/STLS and implicit TLS): `postdesk receiver-check` logs in for real; good and wrong
//! credentials, a closed port and a bad certificate each give their stage and hint; a send
//! with `receiver.before_send` on shows the `receiver` step and delivers. What Dovecot here
//! cannot be made to do (no STARTTLS/STLS, a reset, silence) comes from small fakes.

use std::collections::HashMap;
use std::path::Path;

use postdesk_core::secrets::Keychain;
use postdesk_core::Secret;
use postdesk_tests::{configure, mailstack, postdesk, require_keychain, unique_local, wait_for_mail, Run};
use serde_json::Value;

struct Env(HashMap<String, String>);

impl Env {
    fn new() -> Env {
        Env(mailstack())
    }
    fn get(&self, key: &str) -> &str {
        self.0.get(key).unwrap_or_else(|| panic!("{key} missing from the mail stack env"))
    }
}

/// A data dir whose receiver is `protocol` on `host:port`, logging in with `password`.
fn receiver(env: &Env, protocol: &str, host: &str, port: &str, password: &str) -> tempfile::TempDir {
    require_keychain();
    let d = tempfile::tempdir().unwrap();
    configure(
        d.path(),
        &[
            ("receiver.enabled", "true"),
            ("receiver.protocol", protocol),
            ("receiver.host", host),
            ("receiver.port", port),
            ("receiver.username", env.get("MAIL_USER")),
            ("receiver.ca_file", env.get("MAIL_CA_FILE")),
            ("global.timeout_secs", "5"),
        ],
    );
    Keychain::for_data_dir(d.path()).set("receiver.password", &Secret::new(password)).unwrap();
    d
}

fn check(d: &Path) -> (Value, Run) {
    let run = postdesk(d, &["receiver-check", "--json"], None);
    let report: Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {run:?}"));
    (report, run)
}

fn stages(report: &Value) -> Vec<String> {
    report["steps"].as_array().unwrap().iter().map(|s| s["stage"].as_str().unwrap().to_string()).collect()
}

/// Every protocol with the port of the stack that speaks it.
fn protocols(env: &Env) -> [(&'static str, String); 6] {
    [
        ("imap", env.get("MAIL_IMAP_PORT").into()),
        ("imap-starttls", env.get("MAIL_IMAP_PORT").into()),
        ("imaps", env.get("MAIL_IMAPS_PORT").into()),
        ("pop3", env.get("MAIL_POP3_PORT").into()),
        ("pop3-stls", env.get("MAIL_POP3_PORT").into()),
        ("pop3s", env.get("MAIL_POP3S_PORT").into()),
    ]
}

#[test]
fn the_right_password_logs_in_with_every_protocol() {
    let env = Env::new();
    for (protocol, port) in protocols(&env) {
        let d = receiver(&env, protocol, "127.0.0.1", &port, env.get("MAIL_PASSWORD"));
        let (report, run) = check(d.path());
        assert_eq!(report["ok"], true, "{protocol}: {report}");
        assert_eq!(run.code, 0, "{protocol}: {run:?}");
        assert!(report["failed_stage"].is_null() && report["hint"].is_null() && report["error"].is_null());
        assert_eq!(report["server"]["security"], protocol);
        assert_eq!(report["server"]["source"], "receiver");
        let expected: &[&str] = match protocol {
            "imap" | "pop3" => &["config", "dns", "connect", "banner", "auth"],
            "imap-starttls" | "pop3-stls" => &["config", "dns", "connect", "banner", "tls", "auth"],
            _ => &["config", "dns", "connect", "tls", "banner", "auth"],
        };
        assert_eq!(stages(&report), expected, "{protocol}: {report}");
        let text = report.to_string();
        assert!(text.contains("Dovecot"), "the greeting is shown: {text}");
        if expected.contains(&"tls") {
            assert!(text.contains("CN=Postdesk Test CA"), "{protocol}: the certificate is shown: {text}");
        }
        assert!(!text.contains(env.get("MAIL_PASSWORD")), "{protocol}: the password leaked: {text}");
        assert!(!run.stderr.contains(env.get("MAIL_PASSWORD")));
    }
}

#[test]
fn a_wrong_password_fails_at_auth_with_the_hint() {
    let env = Env::new();
    for (protocol, port) in protocols(&env) {
        let d = receiver(&env, protocol, "127.0.0.1", &port, "wrong-password-canary");
        let (report, run) = check(d.path());
        assert_eq!(report["ok"], false, "{protocol}: {report}");
        assert_eq!(run.code, 1);
        assert_eq!(report["failed_stage"], "auth", "{protocol}: {report}");
        let error = report["error"].as_str().unwrap();
        assert!(error.contains("AUTHENTICATIONFAILED") || error.contains("-ERR [AUTH]"), "{protocol}: {error}");
        assert!(report["hint"].as_str().unwrap().contains("not accepted"), "{protocol}: {report}");
        assert!(!report.to_string().contains("wrong-password-canary"));
    }
    // The human form names the stage and the hint on stderr.
    let d = receiver(&env, "imaps", "127.0.0.1", env.get("MAIL_IMAPS_PORT"), "wrong-password-canary");
    let run = postdesk(d.path(), &["receiver-check"], None);
    assert_eq!(run.code, 1);
    assert!(run.stdout.contains("✗ auth"), "{run:?}");
    assert!(run.stderr.contains("failed at auth") && run.stderr.contains("what to do:"), "{run:?}");
}

#[test]
fn a_closed_port_fails_at_connect() {
    let env = Env::new();
    // A port that was free a moment ago.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port().to_string();
    for protocol in ["imaps", "pop3-stls"] {
        let d = receiver(&env, protocol, "127.0.0.1", &port, env.get("MAIL_PASSWORD"));
        let (report, run) = check(d.path());
        assert_eq!(run.code, 1);
        assert_eq!(report["failed_stage"], "connect", "{report}");
        assert!(report["error"].as_str().unwrap().contains("refused"));
        assert!(report["hint"].as_str().unwrap().contains("Nothing listens on that port"), "{report}");
    }
}

#[test]
fn a_certificate_for_another_name_fails_at_tls_for_imaps_and_pop3s() {
    let env = Env::new();
    let host = env.get("MAIL_BADCERT_HOST");
    for (protocol, port) in [("imaps", env.get("MAIL_IMAPS_BADCERT_PORT")), ("pop3s", env.get("MAIL_POP3S_BADCERT_PORT"))] {
        let d = receiver(&env, protocol, host, port, env.get("MAIL_PASSWORD"));
        let (report, run) = check(d.path());
        assert_eq!(run.code, 1);
        assert_eq!(report["failed_stage"], "tls", "{protocol}: {report}");
        assert!(report["error"].as_str().unwrap().contains("not valid for"), "{protocol}: {report}");
        assert!(report["hint"].as_str().unwrap().contains("another name"), "{protocol}: {report}");
        assert!(!stages(&report).contains(&"auth".to_string()), "no password after a bad certificate");
    }
}

#[test]
fn an_untrusted_ca_fails_at_tls_with_starttls_and_stls_too() {
    let env = Env::new();
    for (protocol, port) in [("imap-starttls", env.get("MAIL_IMAP_PORT")), ("pop3-stls", env.get("MAIL_POP3_PORT"))] {
        let d = receiver(&env, protocol, "127.0.0.1", port, env.get("MAIL_PASSWORD"));
        postdesk(d.path(), &["config", "unset", "receiver.ca_file"], None);
        let (report, _) = check(d.path());
        assert_eq!(report["failed_stage"], "tls", "{protocol}: {report}");
        assert!(report["error"].as_str().unwrap().contains("unknown issuer"), "{protocol}: {report}");
        assert!(report["hint"].as_str().unwrap().contains("CA file"), "{protocol}: {report}");
    }
}

#[test]
fn a_port_of_another_protocol_fails_at_banner() {
    let env = Env::new();
    let d = receiver(&env, "pop3", "127.0.0.1", env.get("MAIL_IMAP_PORT"), env.get("MAIL_PASSWORD"));
    let (report, _) = check(d.path());
    assert_eq!(report["failed_stage"], "banner", "{report}");
    assert!(report["error"].as_str().unwrap().contains("not a POP3 greeting: * OK"), "{report}");
    let d = receiver(&env, "imap", "127.0.0.1", env.get("MAIL_PLAIN_PORT"), env.get("MAIL_PASSWORD"));
    let (report, _) = check(d.path());
    assert_eq!(report["failed_stage"], "banner", "{report}");
    assert!(report["error"].as_str().unwrap().contains("not an IMAP greeting: 220"), "{report}");
    assert!(report["hint"].as_str().unwrap().contains("does not speak the chosen protocol"), "{report}");
}

#[test]
fn receiver_off_or_without_password_is_a_configuration_error() {
    let env = Env::new();
    let d = tempfile::tempdir().unwrap();
    let (report, run) = check(d.path());
    assert_eq!(run.code, 2);
    assert_eq!(report["failed_stage"], "config");
    assert!(report["error"].as_str().unwrap().contains("receiver.enabled"));
    let d = receiver(&env, "imaps", "127.0.0.1", env.get("MAIL_IMAPS_PORT"), "x");
    Keychain::for_data_dir(d.path()).clear("receiver.password").unwrap();
    let (report, run) = check(d.path());
    assert_eq!(run.code, 2);
    assert!(report["error"].as_str().unwrap().contains("receiver.password"), "{report}");
}

#[test]
fn a_send_with_before_send_logs_in_first_and_delivers() {
    let env = Env::new();
    let d = receiver(&env, "pop3s", "127.0.0.1", env.get("MAIL_POP3S_PORT"), env.get("MAIL_PASSWORD"));
    configure(
        d.path(),
        &[
            ("receiver.before_send", "true"),
            ("global.enabled", "true"),
            ("global.host", "127.0.0.1"),
            ("global.port", env.get("MAIL_PLAIN_PORT")),
            ("global.sender.address", "it@example.test"),
        ],
    );
    // The test mail.
    let to = format!("{}@example.test", unique_local("before-send"));
    let run = postdesk(d.path(), &["test-mail", "--to", &to, "--json"], None);
    let report: Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {run:?}"));
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(stages(&report)[..4], ["config", "limits", "receiver", "dns"], "{report}");
    let step = &report["steps"][2];
    assert!(step["detail"].as_str().unwrap().contains("logged in to pop3s 127.0.0.1:"), "{report}");
    assert!(!report.to_string().contains(env.get("MAIL_PASSWORD")), "{report}");
    wait_for_mail(Path::new(env.get("MAIL_SINK")), &format!("To: {to}"));

    // `send` (sendmail-compatible) goes through the same path.
    let to = format!("{}@example.test", unique_local("before-send-send"));
    let message = format!("From: it@example.test\r\nTo: {to}\r\nSubject: before send\r\n\r\nhello\r\n");
    let run = postdesk(d.path(), &["send", "-t"], Some(&message));
    assert_eq!(run.code, 0, "{run:?}");
    wait_for_mail(Path::new(env.get("MAIL_SINK")), &format!("To: {to}"));

    // A wrong receiver password stops the mail before any SMTP step, with the receiver hint.
    Keychain::for_data_dir(d.path()).set("receiver.password", &Secret::new("wrong")).unwrap();
    let run = postdesk(d.path(), &["test-mail", "--to", &to, "--json"], None);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(run.code, 1);
    assert_eq!(report["failed_stage"], "receiver", "{report}");
    assert_eq!(stages(&report), ["config", "limits", "receiver"]);
    assert!(report["error"].as_str().unwrap().starts_with("auth: -ERR [AUTH]"), "{report}");
    assert!(report["hint"].as_str().unwrap().contains("mailbox server"), "{report}");
    let run = postdesk(d.path(), &["send", "-t"], Some(&message));
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("receiver"), "{run:?}");
}

/// A POP3 server without TLS, as Dovecot with `ssl = no` answers: a greeting, CAPA without
/// STLS, QUIT. Returns its port.
fn pop3_without_stls() -> u16 {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut out = stream.try_clone().unwrap();
                let _ = out.write_all(b"+OK Dovecot ready.\r\n");
                for line in BufReader::new(stream).lines() {
                    let Ok(line) = line else { return };
                    let reply: &[u8] = match line.to_ascii_uppercase().as_str() {
                        "CAPA" => b"+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nUSER\r\nSASL PLAIN\r\n.\r\n",
                        "QUIT" => b"+OK Logging out.\r\n",
                        _ => b"-ERR Unknown command.\r\n",
                    };
                    let _ = out.write_all(reply);
                }
            });
        }
    });
    port
}

#[test]
fn starttls_or_stls_not_offered_fails_at_tls_and_sends_no_password() {
    let env = Env::new();
    let port = pop3_without_stls().to_string();
    let d = receiver(&env, "pop3-stls", "127.0.0.1", &port, env.get("MAIL_PASSWORD"));
    let (report, _) = check(d.path());
    assert_eq!(report["failed_stage"], "tls", "{report}");
    assert!(report["error"].as_str().unwrap().contains("does not offer STLS"), "{report}");
    assert!(report["hint"].as_str().unwrap().contains("POP3S"), "{report}");
    assert!(!report["transcript"].to_string().contains("PASS"), "no password without TLS: {report}");
    // An IMAP server whose greeting lists no STARTTLS.
    let port = postdesk_tests::fault::start(postdesk_tests::fault::Fault::Banner("* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN] Dovecot ready.")).to_string();
    let d = receiver(&env, "imap-starttls", "127.0.0.1", &port, env.get("MAIL_PASSWORD"));
    let (report, _) = check(d.path());
    assert_eq!(report["failed_stage"], "tls", "{report}");
    assert!(report["error"].as_str().unwrap().contains("does not offer STARTTLS"), "{report}");
    assert!(report["hint"].as_str().unwrap().contains("IMAPS"), "{report}");
}

#[test]
fn a_reset_right_after_connect_advises_the_ip_allowlist_and_silence_no_greeting() {
    use postdesk_tests::fault::{start, Fault};
    let env = Env::new();
    let port = start(Fault::Reset).to_string();
    let d = receiver(&env, "imap", "127.0.0.1", &port, env.get("MAIL_PASSWORD"));
    let (report, _) = check(d.path());
    assert_eq!(report["failed_stage"], "connect", "{report}");
    assert!(report["hint"].as_str().unwrap().contains("outgoing IP address"), "{report}");
    let port = start(Fault::Silent).to_string();
    let d = receiver(&env, "pop3", "127.0.0.1", &port, env.get("MAIL_PASSWORD"));
    configure(d.path(), &[("global.timeout_secs", "1")]);
    let (report, _) = check(d.path());
    assert_eq!(report["failed_stage"], "banner", "{report}");
    assert!(report["error"].as_str().unwrap().contains("no greeting within 1 s"), "{report}");
    assert!(report["hint"].as_str().unwrap().contains("implicit TLS"), "{report}");
}
