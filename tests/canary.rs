//! The canary figure: one unique value set in every secret slot (the global, receiver, client
//! and route passwords and client secrets, and a Microsoft 365 refresh token from a real
//! sign-in at the fake Entra), then every command of `postdesk` run against real peers
//! (Postfix/Dovecot, the fake Entra), its stdout and stderr kept, and every file under the data
//! dir, the exports and the mail stack's logs and mailbox read: the canary, in clear or as
//! base64 at any alignment, occurs nowhere.

use std::path::{Path, PathBuf};

use base64::Engine;
use postdesk_core::oauth::{SignIn, M365};
use postdesk_core::Postdesk;
use postdesk_tests::fake_entra::{fill_sign_in_form, standard_tenant, FakeEntra};
use postdesk_tests::{configure, mailstack, postdesk, require_keychain, unique_local, Run};

const TENANT: &str = "5b1c0d2e-3f40-4b5c-8d6e-7f8091a2b3c4";
const CLIENT_ID: &str = "1b1c2d3e-4f50-4a6b-9c7d-8e9fa0b1c2d3";
const APP_SECRET: &str = "canary~tenant~app~secret";
const REDIRECT: &str = "http://localhost/postdesk/callback";
const USER_PASSWORD: &str = "canary user password";

/// What to look for: the value itself and its base64 (standard and URL-safe) as it appears at
/// each of the three alignments inside a longer encoded text (the edge characters, which depend
/// on the neighbours, left out).
fn needles(secret: &str) -> Vec<String> {
    let mut out = vec![secret.to_string()];
    for pad in ["", "x", "xy"] {
        let plain = format!("{pad}{secret}");
        for engine in [&base64::engine::general_purpose::STANDARD, &base64::engine::general_purpose::URL_SAFE_NO_PAD] {
            let enc = engine.encode(plain.as_bytes());
            let enc = enc.trim_end_matches('=');
            let skip = pad.len() * 4 / 3 + 2;
            out.push(enc[skip..enc.len() - 3].to_string());
        }
    }
    out
}

fn occurrences(haystack: &[u8], needles: &[String]) -> usize {
    needles.iter().map(|n| haystack.windows(n.len()).filter(|w| *w == n.as_bytes()).count()).sum()
}

/// Every regular file below `dir` (no FIFOs or sockets: the mail stack has both).
fn regular_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let Ok(meta) = std::fs::symlink_metadata(e.path()) else { continue };
        if meta.is_dir() {
            regular_files(&e.path(), out);
        } else if meta.is_file() {
            out.push(e.path());
        }
    }
}

#[test]
fn no_secret_appears_in_any_output_file_or_log() {
    require_keychain();
    let env = mailstack();
    let canary = format!("canary-{}-Zq", unique_local("s3cr3t"));
    let d = tempfile::tempdir().unwrap();
    let exports = tempfile::tempdir().unwrap();
    let user = env["MAIL_USER"].clone();

    // A fake Entra whose user is the mail stack's account, for the delegated sign-in.
    let fake = FakeEntra::start();
    fake.add_tenant(standard_tenant(TENANT, "canary.example", CLIENT_ID, APP_SECRET, REDIRECT, &user, USER_PASSWORD));
    let url = fake.url();
    configure(d.path(), &[
        ("global.enabled", "true"),
        ("global.host", "127.0.0.1"),
        ("global.port", &env["MAIL_SUBMISSION_PORT"]),
        ("global.security", "starttls"),
        ("global.ca_file", &env["MAIL_CA_FILE"]),
        ("global.auth", "password"),
        ("global.username", &user),
        ("global.sender.address", &user),
        ("global.timeout_secs", "10"),
        ("support.address", "helpdesk@example.test"),
        ("receiver.enabled", "true"),
        ("receiver.protocol", "imap"),
        ("receiver.host", "127.0.0.1"),
        ("receiver.port", &env["MAIL_IMAP_PORT"]),
        ("receiver.username", &user),
        // A client that sends through the plain port without a login: the working server.
        ("client.acme.name", "ACME"),
        ("client.acme.enabled", "true"),
        ("client.acme.host", "127.0.0.1"),
        ("client.acme.port", &env["MAIL_PLAIN_PORT"]),
        ("client.acme.security", "none"),
        ("client.acme.auth", "none"),
        // A client on Microsoft 365 (delegated, the fake Entra; XOAUTH2 checked by Dovecot).
        ("client.ms.name", "Microsoft"),
        ("client.ms.enabled", "true"),
        ("client.ms.auth", "m365-smtp"),
        ("client.ms.m365.tenant", TENANT),
        ("client.ms.m365.client_id", CLIENT_ID),
        ("client.ms.m365.flow", "delegated"),
        ("client.ms.m365.authority", &url),
        ("client.ms.m365.graph_url", &url),
        ("route.routed.from", "*@routed.test"),
        ("route.routed.enabled", "true"),
        ("route.routed.host", "127.0.0.1"),
        ("route.routed.port", "9"),
    ]);

    let mut runs: Vec<(String, Run)> = Vec::new();
    let mut run = |args: &[&str], stdin: Option<&str>| {
        let r = postdesk(d.path(), args, stdin);
        let (code, said) = (r.code, format!("{}{}", r.stdout, r.stderr));
        runs.push((args.join(" "), r));
        (code, said)
    };
    let slots = ["global.password", "global.m365.client_secret", "receiver.password", "client.acme.password", "client.acme.m365.client_secret", "route.routed.password", "route.routed.m365.client_secret"];
    for key in slots {
        assert_eq!(run(&["secret", "set", key], Some(&format!("{canary}\n"))).0, 0, "{key}");
    }
    // The refresh token of a real sign-in (then rotated by the test mail below).
    let app = Postdesk::open(d.path());
    let m = M365::from_config(&app.load().unwrap(), "client.ms").unwrap();
    let sign_in = SignIn::begin(&m, REDIRECT, None);
    let redirect = fill_sign_in_form(&sign_in.url, &user, USER_PASSWORD, true).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(sign_in.finish(&redirect, &app)).unwrap();
    let mut secrets = vec![canary.clone()];
    secrets.push(app.secret("client.ms.m365.refresh_token").unwrap().unwrap().expose().to_string());

    let (plain_export, secret_export) = (exports.path().join("plain.json"), exports.path().join("with-secrets.json"));
    let pass = exports.path().join("passphrase");
    std::fs::write(&pass, "a canary passphrase\n").unwrap();
    let (plain_export, secret_export, pass) = (plain_export.to_str().unwrap(), secret_export.to_str().unwrap(), pass.to_str().unwrap());
    let to = format!("{}@example.test", unique_local("canary"));
    let message = format!("From: {user}\nTo: {to}\nSubject: canary\n\nbody\n");
    for key in slots {
        run(&["config", "get", key], None);
    }
    run(&["config", "get", "global.host"], None);
    run(&["config", "show"], None);
    run(&["config", "show", "--json"], None);
    run(&["check"], None);
    run(&["check", "--json"], None);
    run(&["route", "--from", &user], None);
    run(&["route", "--from", &user, "--json"], None);
    run(&["route", "--client", "acme", "--from", &user, "--json"], None);
    run(&["route", "--from", "x@routed.test", "--json"], None);
    // A failing server (wrong password at Postfix), a working one, a refused connection.
    let (code, said) = run(&["test-mail", "--to", &to, "--json"], None);
    assert!(code == 1 && said.contains("\"failed_stage\": \"auth\""), "{said}");
    run(&["test-mail", "--to", &to], None);
    let (code, said) = run(&["test-mail", "--to", &to, "--client", "acme", "--json"], None);
    assert_eq!(code, 0, "{said}");
    run(&["test-mail", "--to", &to, "--from", "x@routed.test", "--json"], None);
    let (code, said) = run(&["test-mail", "--to", &to, "--client", "ms", "--json"], None);
    assert_eq!(code, 0, "delegated XOAUTH2: {said}");
    secrets.push(app.secret("client.ms.m365.refresh_token").unwrap().unwrap().expose().to_string());
    run(&["receiver-check", "--json"], None);
    run(&["receiver-check"], None);
    run(&["send", &to], Some(&message));
    run(&["send", "--client", "acme", "-t"], Some(&message));
    run(&["export", plain_export], None);
    run(&["export", secret_export, "--with-secrets", "--passphrase-file", pass], None);
    run(&["import", plain_export, "--dry-run"], None);
    run(&["import", secret_export, "--dry-run"], None);
    run(&["import", secret_export, "--dry-run", "--passphrase-file", pass], None);
    run(&["dne", "add", "blocked@example.test"], None);
    run(&["dne", "list"], None);
    run(&["dne", "export", exports.path().join("dne.csv").to_str().unwrap()], None);
    run(&["template", "render", "power"], None);
    run(&["template", "render", "standard", "--client", "acme", "--var", "name=Dana"], None);
    run(&["support", "--subject", "Help", "--preview"], Some("my mail does not work"));
    run(&["support", "--subject", "Help", "--preview", "--json"], Some("my mail does not work"));
    run(&["support", "--subject", "Help", "--client", "acme", "--json"], Some("my mail does not work"));
    run(&["preset", "list"], None);
    run(&["preset", "list", "--json"], None);
    run(&["schema"], None);
    run(&["--help"], None);

    let needles: Vec<String> = secrets.iter().flat_map(|s| needles(s)).collect();
    // The search finds the canary the way it would leak: in clear, and inside an AUTH PLAIN line.
    let b64 = base64::engine::general_purpose::STANDARD;
    for probe in [format!("password={canary}"), format!("AUTH PLAIN {}", b64.encode(format!("\0{user}\0{canary}"))), b64.encode(format!("user={user}\x01auth=Bearer {canary}\x01\x01"))] {
        assert!(occurrences(probe.as_bytes(), &needles) > 0, "the search misses {probe}");
    }
    let (mut leaks, mut total) = (Vec::new(), 0);
    for (args, r) in &runs {
        let n = occurrences(r.stdout.as_bytes(), &needles) + occurrences(r.stderr.as_bytes(), &needles);
        total += n;
        if n > 0 {
            leaks.push(format!("postdesk {args}: {n}\n{}{}", r.stdout, r.stderr));
        }
    }
    let mut files = Vec::new();
    for dir in [d.path(), exports.path(), Path::new(&env["MAIL_DIR"])] {
        regular_files(dir, &mut files);
    }
    let mut bytes = 0;
    for f in &files {
        let data = std::fs::read(f).unwrap_or_default();
        bytes += data.len();
        let n = occurrences(&data, &needles);
        total += n;
        if n > 0 {
            leaks.push(format!("{}: {n}", f.display()));
        }
    }
    eprintln!(
        "canary figure: {} secrets ({} needles) in {} slots + 2 refresh tokens; {} commands run; {} files ({} KiB) scanned under the data dir, the exports and the mail stack (logs, mailbox); {} occurrences",
        secrets.len(),
        needles.len(),
        slots.len(),
        runs.len(),
        files.len(),
        bytes / 1024,
        total
    );
    assert!(files.iter().any(|f| f.starts_with(&env["MAIL_SINK"])), "the delivered mails were scanned too");
    assert!(leaks.is_empty(), "secrets leaked:\n{}", leaks.join("\n"));
    let keychain = postdesk_core::secrets::Keychain::for_data_dir(d.path());
    for key in slots.iter().chain(&["client.ms.m365.refresh_token", "client.ms.m365.account"]) {
        let _ = keychain.clear(key);
    }
}
