//! Clients, routes, sender identities and the support request against the real Postfix of
//! tests/mailstack: each mail is checked in the sink AND on the port it went through (each
//! mailstack port logs under its own `syslog_name`; the queue ID in the Received header that
//! Postfix added leads to the service that accepted the mail).

use std::collections::HashMap;
use std::path::Path;

use postdesk_core::secrets::Keychain;
use postdesk_core::{Postdesk, Secret};
use postdesk_tests::{configure, mailstack, postdesk, require_keychain, unique_local, wait_for_mail};
use serde_json::Value;

fn get<'a>(env: &'a HashMap<String, String>, key: &str) -> &'a str {
    env.get(key).unwrap_or_else(|| panic!("{key} missing from the mail stack env"))
}

/// The mailstack service (`plain`, `notls`, …) whose smtpd accepted `mail`.
fn accepted_by(env: &HashMap<String, String>, mail: &str) -> String {
    let received = mail.lines().find(|l| l.starts_with("Received:")).expect("a Received header");
    let mut rest = mail[mail.find(received).unwrap()..].split_whitespace();
    let queue_id = loop {
        match rest.next() {
            Some("id") => break rest.next().expect("queue id").trim_end_matches(';').to_string(),
            Some(_) => continue,
            None => panic!("no queue id in {received}"),
        }
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let log = std::fs::read_to_string(get(env, "MAIL_LOG")).unwrap_or_default();
        let line = log.lines().find(|l| l.contains(&format!(": {queue_id}: client=")));
        if let Some(line) = line {
            let service = line.split("postfix/").nth(1).and_then(|s| s.split('/').next()).expect("postfix/<service>/smtpd");
            return service.to_string();
        }
        assert!(std::time::Instant::now() < deadline, "queue id {queue_id} not in the mail log");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// Global = plain port; client acme has its own server on the notls port; client beta has
/// none; route partner (by From domain) goes through the noutf8 port.
fn three_servers(env: &HashMap<String, String>) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    configure(d.path(), &[
        ("global.enabled", "true"),
        ("global.host", "127.0.0.1"),
        ("global.port", get(env, "MAIL_PLAIN_PORT")),
        ("global.sender.address", "it@example.test"),
        ("global.sender.name", "IT Desk"),
        ("global.timeout_secs", "5"),
        ("client.acme.name", "Acme"),
        ("client.acme.enabled", "true"),
        ("client.acme.port", get(env, "MAIL_NOTLS_PORT")),
        ("client.acme.sender.address", "office@acme.example.test"),
        ("client.beta.name", "Beta"),
        ("route.partner.enabled", "true"),
        ("route.partner.from", "*@partner.example.test"),
        ("route.partner.port", get(env, "MAIL_NOUTF8_PORT")),
    ]);
    d
}

fn test_mail(d: &Path, args: &[&str]) -> Value {
    let mut all = vec!["test-mail", "--json"];
    all.extend_from_slice(args);
    let run = postdesk(d, &all, None);
    let report: Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {run:?}"));
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(run.code, 0);
    report
}

#[test]
fn each_mail_goes_through_the_port_of_its_client_global_or_route() {
    let env = mailstack();
    let d = three_servers(&env);
    let sink = Path::new(get(&env, "MAIL_SINK"));
    for (client, from, source, service) in [
        (Some("acme"), None, "client:acme", "notls"),
        (Some("beta"), None, "global", "plain"),
        (None, None, "global", "plain"),
        (Some("beta"), Some("news@partner.example.test"), "route:partner", "noutf8"),
        (Some("acme"), Some("news@partner.example.test"), "route:partner", "noutf8"),
    ] {
        let to = format!("{}@example.test", unique_local("via"));
        let mut args = vec!["--to", to.as_str()];
        if let Some(c) = client {
            args.extend(["--client", c]);
        }
        if let Some(f) = from {
            args.extend(["--from", f]);
        }
        let report = test_mail(d.path(), &args);
        assert_eq!(report["server"]["source"], source, "{client:?} {from:?}: {report}");
        let mail = wait_for_mail(sink, &format!("To: {to}"));
        assert_eq!(accepted_by(&env, &mail), service, "{client:?} {from:?}");
        if client == Some("acme") && from.is_none() {
            assert!(mail.contains("<office@acme.example.test>"), "the client's sender address: {mail}");
        }
    }
    // The explainer says the same as what happened.
    let run = postdesk(d.path(), &["route", "--client", "acme", "--from", "office@acme.example.test", "--json"], None);
    let json: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["source"], "client:acme");
    assert!(json["chain"].as_array().unwrap().iter().any(|l| l.as_str().unwrap().contains("own server is enabled")), "{json}");
}

#[test]
fn a_concealed_sender_leaves_with_the_system_address_and_replies_go_to_the_user() {
    let env = mailstack();
    let d = three_servers(&env);
    configure(d.path(), &[
        ("client.acme.sender.name", "Alice Acme"),
        ("client.acme.sender.conceal", "true"),
        ("client.acme.sender.alternatives", "alice@acme.example.test"),
    ]);
    let to = format!("{}@example.test", unique_local("conceal"));
    let report = test_mail(d.path(), &["--to", &to, "--client", "acme", "--from", "alice@acme.example.test"]);
    assert_eq!(report["server"]["source"], "client:acme");
    let mail = wait_for_mail(Path::new(get(&env, "MAIL_SINK")), &format!("To: {to}"));
    assert!(mail.contains("From: Alice Acme <it@example.test>"), "{mail}");
    assert!(mail.contains("Reply-To: Alice Acme <alice@acme.example.test>"), "{mail}");
    assert!(mail.contains("Return-Path: <it@example.test>"), "envelope too: {mail}");
    // A From outside the client's addresses is refused, naming the key; nothing is sent.
    let run = postdesk(d.path(), &["test-mail", "--to", &to, "--client", "acme", "--from", "mallory@evil.test"], None);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("client.acme.sender.alternatives"), "{}", run.stderr);
    // `send` rewrites the message's own From the same way.
    let to2 = format!("{}@example.test", unique_local("conceal-send"));
    let msg = format!("From: Alice <alice@acme.example.test>\nTo: {to2}\nSubject: concealed\n\nhello\n");
    let run = postdesk(d.path(), &["send", "--client", "acme", "-f", "alice@acme.example.test", &to2], Some(&msg));
    assert_eq!(run.code, 0, "{run:?}");
    let mail = wait_for_mail(Path::new(get(&env, "MAIL_SINK")), &format!("To: {to2}"));
    assert!(mail.contains("From: Alice Acme <it@example.test>") && !mail.contains("From: Alice <alice@"), "{mail}");
    assert!(mail.contains("Reply-To: Alice Acme <alice@acme.example.test>"), "{mail}");
}

#[test]
fn a_support_request_is_delivered_with_the_system_information_attached() {
    let env = mailstack();
    let d = three_servers(&env);
    let desk = format!("{}@example.test", unique_local("support"));
    let acme_desk = format!("{}@example.test", unique_local("acme-support"));
    configure(d.path(), &[
        ("support.address", &desk),
        ("support.attach_system_info", "true"),
        ("client.acme.support.address", &acme_desk),
    ]);
    let subject = unique_local("Cannot send");
    let preview = postdesk(d.path(), &["support", "--subject", &subject, "--preview", "--json"], Some("Nothing arrives.\n"));
    assert_eq!(preview.code, 0, "{preview:?}");
    let preview: Value = serde_json::from_str(&preview.stdout).unwrap();
    assert_eq!(preview["to"], desk.as_str());
    let run = postdesk(d.path(), &["support", "--subject", &subject], Some("Nothing arrives.\n"));
    assert_eq!(run.code, 0, "{run:?}");
    let mail = wait_for_mail(Path::new(get(&env, "MAIL_SINK")), &format!("Subject: {subject}"));
    assert_eq!(accepted_by(&env, &mail), "plain");
    assert!(mail.contains("Content-Disposition: attachment; filename=\"postdesk-system-info.txt\""), "{mail}");
    // What arrived is the preview, apart from Date and Message-ID (and Postfix's own headers).
    let norm = |s: &str| postdesk_core::support::without_date_and_id(&s.replace("\r\n", "\n").replace('\n', "\r\n"));
    let sent = norm(preview["raw"].as_str().unwrap());
    assert!(norm(&mail).contains(sent.trim_end()), "preview:\n{sent}\narrived:\n{mail}");
    let attachment = preview["attachment"].as_str().unwrap();
    assert!(attachment.contains("App version: ") && attachment.contains("global.port = "), "{attachment}");
    // A client's own support address only when allowed; the client's route is used.
    configure(d.path(), &[("support.allow_client_address", "true")]);
    let subject = unique_local("Acme help");
    let run = postdesk(d.path(), &["support", "--client", "acme", "--subject", &subject], Some("Help.\n"));
    assert_eq!(run.code, 0, "{run:?}");
    let mail = wait_for_mail(Path::new(get(&env, "MAIL_SINK")), &format!("Subject: {subject}"));
    assert!(mail.contains(&format!("To: {acme_desk}")), "{mail}");
    assert_eq!(accepted_by(&env, &mail), "notls", "through client acme's own server");
    // Global off: nothing is sent, and it says so.
    configure(d.path(), &[("global.enabled", "false")]);
    let run = postdesk(d.path(), &["support", "--subject", "x"], Some("y\n"));
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("global mail server is off"), "{}", run.stderr);
}

#[test]
fn removing_a_client_removes_its_secrets_from_the_keychain() {
    require_keychain();
    let d = tempfile::tempdir().unwrap();
    let app = Postdesk::open(d.path());
    app.add_client("acme", "Acme").unwrap();
    app.add_route("corp", "*@corp.example.test").unwrap();
    let keychain = Keychain::for_data_dir(d.path());
    keychain.set("client.acme.password", &Secret::new("s3cret-acme")).unwrap();
    keychain.set("route.corp.password", &Secret::new("s3cret-corp")).unwrap();
    app.remove_client("acme").unwrap();
    app.remove_route("corp").unwrap();
    assert!(keychain.get("client.acme.password").unwrap().is_none());
    assert!(keychain.get("route.corp.password").unwrap().is_none());
    assert!(app.clients().unwrap().is_empty() && app.routes().unwrap().is_empty());
}
