//! Export and import through the real binary and the real keychain: round trips, secrets
//! only ever encrypted, every hostile file refused with its key named and nothing changed.

use std::path::Path;

use postdesk_core::secrets::Keychain;
use postdesk_tests::{files_containing, postdesk, require_keychain, root, Run};
use serde_json::Value;

const CANARY: &str = "canary-S3cret-4711";
const PASSPHRASE: &str = "correct horse battery staple";

fn configured() -> tempfile::TempDir {
    require_keychain();
    let d = tempfile::tempdir().unwrap();
    for (k, v) in [
        ("global.enabled", "true"),
        ("global.host", "smtp.example.com"),
        ("global.port", "587"),
        ("global.security", "starttls"),
        ("global.auth", "password"),
        ("global.username", "it@example.com"),
        ("global.sender.address", "it@example.com"),
        ("global.sender.name", "IT Service Desk"),
        ("support.address", "helpdesk@example.com"),
        ("client.acme.name", "ACME"),
        ("client.acme.host", "smtp.acme.test"),
    ] {
        assert_eq!(postdesk(d.path(), &["config", "set", k, v], None).code, 0, "{k}");
    }
    assert_eq!(postdesk(d.path(), &["secret", "set", "global.password"], Some(CANARY)).code, 0);
    d
}

fn passphrase_file(dir: &Path, text: &str) -> String {
    let p = dir.join("passphrase.txt");
    std::fs::write(&p, format!("{text}\n")).unwrap();
    p.display().to_string()
}

fn show(d: &Path) -> Value {
    serde_json::from_str(&postdesk(d, &["config", "show", "--json"], None).stdout).unwrap()
}

fn no_canary(runs: &[&Run]) {
    for r in runs {
        assert!(!r.stdout.contains(CANARY) && !r.stderr.contains(CANARY), "{r:?}");
    }
}

#[test]
fn round_trip_with_encrypted_secrets_to_an_empty_machine() {
    let a = configured();
    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("export.json");
    let pass = passphrase_file(out.path(), PASSPHRASE);
    let e = postdesk(a.path(), &["export", file.to_str().unwrap(), "--with-secrets", "--passphrase-file", &pass], None);
    assert_eq!(e.code, 0, "{e:?}");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(!text.contains(CANARY), "secret in clear in the export");
    assert!(text.contains("-----BEGIN AGE ENCRYPTED FILE-----"), "{text}");

    let b = tempfile::tempdir().unwrap();
    let i = postdesk(b.path(), &["import", file.to_str().unwrap(), "--passphrase-file", &pass], None);
    assert_eq!(i.code, 0, "{i:?}");
    assert!(i.stdout.contains("+ global.host = smtp.example.com"), "{}", i.stdout);
    assert!(i.stdout.contains("* global.password: will be set"), "{}", i.stdout);
    no_canary(&[&e, &i]);
    assert_eq!(show(b.path()), show(a.path()), "same configuration on the target");
    assert_eq!(Keychain::for_data_dir(b.path()).get("global.password").unwrap().unwrap().expose(), CANARY);
    assert!(files_containing(b.path(), CANARY).is_empty() && files_containing(out.path(), CANARY).is_empty());
    for d in [a.path(), b.path()] {
        postdesk(d, &["secret", "clear", "global.password"], None);
    }
}

#[test]
fn without_secrets_the_file_names_what_the_target_needs() {
    let a = configured();
    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("plain.json");
    let e = postdesk(a.path(), &["export", file.to_str().unwrap()], None);
    assert_eq!(e.code, 0, "{e:?}");
    assert!(e.stderr.contains("needs: global.password"), "{}", e.stderr);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(!text.contains(CANARY));
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["format"], "postdesk-config");
    assert_eq!(doc["secrets"]["needed"], serde_json::json!(["global.password"]));
    assert!(doc["secrets"].get("encrypted").is_none());
    // Stable bytes: a second export is identical (diffs cleanly in git).
    let again = out.path().join("again.json");
    postdesk(a.path(), &["export", again.to_str().unwrap()], None);
    assert_eq!(std::fs::read(&again).unwrap(), text.as_bytes());

    let b = tempfile::tempdir().unwrap();
    let i = postdesk(b.path(), &["import", file.to_str().unwrap()], None);
    assert_eq!(i.code, 0, "{i:?}");
    assert!(i.stdout.contains("! global.password: needed"), "{}", i.stdout);
    assert_eq!(postdesk(b.path(), &["config", "get", "global.password"], None).stdout.trim(), "<not set>");
    no_canary(&[&e, &i]);
    postdesk(a.path(), &["secret", "clear", "global.password"], None);
}

#[test]
fn wrong_passphrase_and_truncated_secrets_change_nothing() {
    let a = configured();
    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("export.json");
    let pass = passphrase_file(out.path(), PASSPHRASE);
    assert_eq!(postdesk(a.path(), &["export", file.to_str().unwrap(), "--with-secrets", "--passphrase-file", &pass], None).code, 0);
    let b = tempfile::tempdir().unwrap();
    let wrong = passphrase_file(b.path(), "not the passphrase");
    let r = postdesk(b.path(), &["import", file.to_str().unwrap(), "--passphrase-file", &wrong], None);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("secrets.encrypted: wrong passphrase"), "{}", r.stderr);
    assert!(!b.path().join("config.json").exists(), "nothing changed");
    // Without a passphrase: refused, named.
    let r = postdesk(b.path(), &["import", file.to_str().unwrap()], None);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("give the passphrase"), "{}", r.stderr);
    // Truncated age data.
    let text = std::fs::read_to_string(&file).unwrap();
    let cut = text.find("-----END AGE").unwrap() - 40;
    let truncated = format!("{}\\n-----END AGE ENCRYPTED FILE-----\"\n  }}\n}}\n", &text[..cut]);
    let tfile = out.path().join("truncated.json");
    std::fs::write(&tfile, truncated).unwrap();
    let r = postdesk(b.path(), &["import", tfile.to_str().unwrap(), "--passphrase-file", &pass], None);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("damaged or truncated"), "{}", r.stderr);
    assert!(!b.path().join("config.json").exists());
    no_canary(&[&r]);
    postdesk(a.path(), &["secret", "clear", "global.password"], None);
}

#[test]
fn dry_run_prints_the_differences_and_changes_nothing() {
    let d = tempfile::tempdir().unwrap();
    postdesk(d.path(), &["config", "set", "global.host", "old.example.com"], None);
    let before = std::fs::read(d.path().join("config.json")).unwrap();
    let fixture = root().join("tests/fixtures/config-v1.json");
    let r = postdesk(d.path(), &["import", fixture.to_str().unwrap(), "--dry-run"], None);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("~ global.host: old.example.com -> smtp.example.com"), "{}", r.stdout);
    assert!(r.stdout.contains("+ client.acme.host = smtp.acme.test"), "{}", r.stdout);
    assert!(r.stderr.contains("dry run"), "{}", r.stderr);
    assert_eq!(std::fs::read(d.path().join("config.json")).unwrap(), before);
}

#[test]
fn a_version_1_file_imports() {
    let d = tempfile::tempdir().unwrap();
    let fixture = root().join("tests/fixtures/config-v1.json");
    let r = postdesk(d.path(), &["import", fixture.to_str().unwrap()], None);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(postdesk(d.path(), &["config", "get", "client.acme.host"], None).stdout.trim(), "smtp.acme.test");
    assert_eq!(postdesk(d.path(), &["config", "get", "support.attach_system_info"], None).stdout.trim(), "true");
}

#[test]
fn undo_restores_the_configuration_and_the_secrets() {
    let d = configured();
    let before = show(d.path());
    let out = tempfile::tempdir().unwrap();
    // A file that changes the host and carries a different password.
    let other = tempfile::tempdir().unwrap();
    postdesk(other.path(), &["config", "set", "global.host", "smtp.other.test"], None);
    postdesk(other.path(), &["secret", "set", "global.password"], Some("other-password"));
    let file = out.path().join("other.json");
    let pass = passphrase_file(out.path(), PASSPHRASE);
    assert_eq!(postdesk(other.path(), &["export", file.to_str().unwrap(), "--with-secrets", "--passphrase-file", &pass], None).code, 0);
    assert_eq!(postdesk(d.path(), &["import", file.to_str().unwrap(), "--passphrase-file", &pass], None).code, 0);
    assert_eq!(postdesk(d.path(), &["config", "get", "global.host"], None).stdout.trim(), "smtp.other.test");
    assert_eq!(Keychain::for_data_dir(d.path()).get("global.password").unwrap().unwrap().expose(), "other-password");

    let r = postdesk(d.path(), &["import", "--undo"], None);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(show(d.path()), before);
    assert_eq!(Keychain::for_data_dir(d.path()).get("global.password").unwrap().unwrap().expose(), CANARY);
    assert_eq!(postdesk(d.path(), &["import", "--undo"], None).code, 1, "nothing left to undo");
    for dir in [d.path(), other.path()] {
        postdesk(dir, &["secret", "clear", "global.password"], None);
    }
}

#[test]
fn hostile_files_are_refused_with_the_key_named_and_nothing_changed() {
    let d = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let head = r#""format": "postdesk-config", "version": 1"#;
    let cases: Vec<(&str, Vec<u8>, &[&str])> = vec![
        ("duplicate", format!(r#"{{{head}, "global": {{"host": "a.example", "host": "b.example"}}}}"#).into_bytes(), &["duplicate key \"host\""]),
        ("deep", format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)).into_bytes(), &["nested more than"]),
        ("utf8", b"{\"format\": \"postdesk-config\", \"version\": 1, \"global\": {\"host\": \"\xff\"}}".to_vec(), &["not UTF-8"]),
        ("unknown", format!(r#"{{{head}, "global": {{"hots": "x"}}, "surprise": 1}}"#).into_bytes(), &["global.hots: unknown key", "surprise: unknown key"]),
        ("invalid", format!(r#"{{{head}, "global": {{"host": "bad..host", "sender": {{"address": "nope"}}}}}}"#).into_bytes(), &["global.host:", "global.sender.address:"]),
        ("newer", br#"{"format": "postdesk-config", "version": 7}"#.to_vec(), &["newer Postdesk"]),
        ("not ours", br#"{"hello": "world"}"#.to_vec(), &["format: this is not a Postdesk configuration file"]),
        ("truncated", format!(r#"{{{head}, "global": {{"host": "#).into_bytes(), &["file: the file ends too early (line 1, column"]),
        ("wrong type", format!(r#"{{{head}, "global": {{"port": "587"}}}}"#).into_bytes(), &["global.port: must be a whole number from 0 to 65535, not the text \"587\""]),
        ("huge", vec![b' '; postdesk_core::transfer::MAX_BYTES + 10], &["more than the"]),
    ];
    for (name, bytes, expected) in cases {
        let f = dir.path().join(format!("{}.json", name.replace(' ', "-")));
        std::fs::write(&f, &bytes).unwrap();
        let t0 = std::time::Instant::now();
        let r = postdesk(d.path(), &["import", f.to_str().unwrap()], None);
        assert!(t0.elapsed() < std::time::Duration::from_secs(5), "{name}: took {:?}", t0.elapsed());
        assert_eq!(r.code, 1, "{name}: {r:?}");
        for e in expected {
            assert!(r.stderr.contains(e), "{name}: stderr lacks {e:?}: {}", r.stderr);
        }
        assert!(r.stderr.contains("nothing was changed"), "{name}");
        assert!(!d.path().join("config.json").exists(), "{name}: nothing changed");
    }
}

#[test]
fn unknown_fields_in_a_file_suggest_the_nearest_key() {
    let d = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("typos.json");
    std::fs::write(
        &f,
        r#"{"format": "postdesk-config", "version": 1, "global": {"hots": "smtp.example.com"}, "clients": {"acme": {"hots": "a.acme.test"}}, "colour": "red"}"#,
    )
    .unwrap();
    for args in [&["import", "--dry-run"][..], &["import"]] {
        let mut args = args.to_vec();
        args.push(f.to_str().unwrap());
        let r = postdesk(d.path(), &args, None);
        assert_eq!(r.code, 1, "{r:?}");
        for line in [
            "global.hots: unknown key (not a Postdesk setting); did you mean global.host?",
            "client.acme.hots: unknown key (not a Postdesk setting); did you mean client.acme.host?",
            "colour: unknown key (not a Postdesk setting)",
        ] {
            assert!(r.stderr.lines().any(|l| l == format!("postdesk: {line}")), "{args:?}: lacks {line:?}: {}", r.stderr);
        }
        assert!(!r.stderr.contains("colour: unknown key (not a Postdesk setting); did you mean"), "{}", r.stderr);
        assert!(!d.path().join("config.json").exists());
    }
    // Sections that refuse unknown fields while being read (limits, a sender) say the same.
    for (section, line) in [
        (r#""limits": {"max_per_dya": 5}"#, "limits.max_per_dya: unknown key (not a Postdesk setting); did you mean limits.max_per_day?"),
        (r#""clients": {"acme": {"sender": {"adress": "a@acme.test"}}}"#, "client.acme.sender.adress: unknown key (not a Postdesk setting); did you mean client.acme.sender.address?"),
    ] {
        std::fs::write(&f, format!(r#"{{"format": "postdesk-config", "version": 1, {section}}}"#)).unwrap();
        let r = postdesk(d.path(), &["import", "--dry-run", f.to_str().unwrap()], None);
        assert_eq!(r.code, 1, "{r:?}");
        assert!(r.stderr.lines().any(|l| l == format!("postdesk: {line}")), "lacks {line:?}: {}", r.stderr);
    }
}

#[test]
fn schema_is_generated_json_schema() {
    let d = tempfile::tempdir().unwrap();
    let r = postdesk(d.path(), &["schema"], None);
    assert_eq!(r.code, 0);
    let schema: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(schema["$id"], postdesk_core::transfer::SCHEMA_ID);
    assert!(schema["$schema"].as_str().unwrap().contains("json-schema.org"), "{schema}");
    assert!(schema["properties"]["global"].is_object() && schema["properties"]["secrets"].is_object());
}

/// An export whose `secrets.encrypted` asks for scrypt work factor 2^`log_n`: made at 2^10 (cheap)
/// and the stanza's number changed afterwards, as a hostile file would; the MAC no longer fits,
/// which an import must never get far enough to notice.
fn export_demanding_work_factor(dir: &Path, log_n: u8) -> std::path::PathBuf {
    use std::io::Write;
    let mut recipient = age::scrypt::Recipient::new(age::secrecy::SecretString::from(PASSPHRASE));
    recipient.set_work_factor(10);
    let encryptor = age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient)).unwrap();
    let mut binary = Vec::new();
    let mut w = encryptor.wrap_output(&mut binary).unwrap();
    w.write_all(br#"{"global.password":"x"}"#).unwrap();
    w.finish().unwrap();
    let text = String::from_utf8_lossy(&binary).into_owned();
    let stanza = text.lines().find(|l| l.starts_with("-> scrypt ")).unwrap().to_string();
    let hostile = stanza.replace(" 10", &format!(" {log_n}"));
    assert_ne!(stanza, hostile);
    let pos = binary.windows(stanza.len()).position(|w| w == stanza.as_bytes()).unwrap();
    binary.splice(pos..pos + stanza.len(), hostile.bytes());
    let mut armored = Vec::new();
    let mut a = age::armor::ArmoredWriter::wrap_output(&mut armored, age::armor::Format::AsciiArmor).unwrap();
    a.write_all(&binary).unwrap();
    a.finish().unwrap();
    let file = serde_json::json!({
        "format": "postdesk-config",
        "version": 1,
        "global": {"enabled": true, "host": "smtp.example.com", "port": 587, "auth": "password", "username": "it@example.com", "sender": {"address": "it@example.com"}},
        "secrets": {"needed": ["global.password"], "encrypted": String::from_utf8(armored).unwrap()},
    });
    let path = dir.join(format!("hostile-{log_n}.json"));
    std::fs::write(&path, serde_json::to_string_pretty(&file).unwrap()).unwrap();
    path
}

/// Runs postdesk to its end or at most `limit` (then kills it and fails), and measures its
/// wall time and peak resident memory (wait4's ru_maxrss).
fn timed_postdesk(d: &Path, args: &[&str], limit: std::time::Duration) -> (Run, std::time::Duration, u64) {
    use std::io::Read;
    let t0 = std::time::Instant::now();
    let mut child = std::process::Command::new(postdesk_tests::postdesk_bin())
        .arg("--data-dir")
        .arg(d)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = r.read_to_string(&mut s);
            s
        })
    };
    let (out, err) = (drain(Box::new(child.stdout.take().unwrap())), drain(Box::new(child.stderr.take().unwrap())));
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: an all-zero rusage is valid; wait4 gets our own child and valid out-pointers.
    let mut usage = unsafe { std::mem::zeroed::<libc::rusage>() };
    loop {
        let r = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        assert!(r >= 0, "wait4: {}", std::io::Error::last_os_error());
        if r == pid {
            break;
        }
        if t0.elapsed() > limit {
            unsafe {
                libc::kill(pid, libc::SIGKILL);
                libc::wait4(pid, &mut status, 0, &mut usage);
            }
            panic!("postdesk {args:?} still ran after {limit:?} (peak memory {} MiB): a hostile file must be refused at once", usage.ru_maxrss / 1024);
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let elapsed = t0.elapsed();
    let code = if libc::WIFEXITED(status) { libc::WEXITSTATUS(status) } else { -1 };
    let run = Run { code, stdout: out.join().unwrap(), stderr: err.join().unwrap() };
    (run, elapsed, usage.ru_maxrss as u64 * 1024)
}

#[test]
fn a_hostile_scrypt_work_factor_is_refused_at_once_without_the_memory() {
    let d = configured();
    let out = tempfile::tempdir().unwrap();
    let pass = passphrase_file(out.path(), PASSPHRASE);
    for log_n in [22, 19] {
        let file = export_demanding_work_factor(out.path(), log_n);
        let args = ["import", file.to_str().unwrap(), "--dry-run", "--passphrase-file", &pass];
        let (run, took, peak) = timed_postdesk(d.path(), &args, std::time::Duration::from_secs(20));
        eprintln!("import of a file asking for 2^{log_n}: exit {}, {} ms, peak {} MiB", run.code, took.as_millis(), peak >> 20);
        assert_eq!(run.code, 1, "{run:?}");
        assert!(run.stderr.contains(&format!("secrets.encrypted: the file asks for a passphrase work factor of 2^{log_n}")), "{}", run.stderr);
        assert!(run.stderr.contains("at most 2^18") && run.stderr.contains("nothing was changed"), "{}", run.stderr);
        assert!(took < std::time::Duration::from_secs(3), "the refusal took {took:?}");
        assert!(peak < 128 << 20, "peak memory {} MiB: the scrypt memory was allocated", peak >> 20);
    }
    // What Postdesk itself exports asks for exactly the most it accepts, and imports in about a second.
    let file = out.path().join("own.json");
    let e = postdesk(d.path(), &["export", file.to_str().unwrap(), "--with-secrets", "--passphrase-file", &pass], None);
    assert_eq!(e.code, 0, "{e:?}");
    let exported: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let armored = exported["secrets"]["encrypted"].as_str().unwrap();
    let mut binary = Vec::new();
    std::io::Read::read_to_end(&mut age::armor::ArmoredReader::new(armored.as_bytes()), &mut binary).unwrap();
    let header = String::from_utf8_lossy(&binary);
    let stanza = header.lines().find(|l| l.starts_with("-> scrypt ")).unwrap();
    assert!(stanza.ends_with(" 18"), "{stanza}");
    let (run, took, peak) = timed_postdesk(d.path(), &["import", file.to_str().unwrap(), "--dry-run", "--passphrase-file", &pass], std::time::Duration::from_secs(20));
    eprintln!("import of Postdesk's own export (2^18): exit {}, {} ms, peak {} MiB", run.code, took.as_millis(), peak >> 20);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(peak < 300 << 20, "peak memory {} MiB", peak >> 20);
    postdesk(d.path(), &["secret", "clear", "global.password"], None);
}

/// Import is checked like typed input: client IDs, route names and template types follow the
/// key grammar, the offending one is named (escaped, never raw on the terminal), nothing changes.
#[test]
fn imported_ids_follow_the_key_grammar() {
    let d = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let head = r#""format": "postdesk-config", "version": 1"#;
    let long = "c".repeat(65);
    let cases: Vec<(&str, String, &str)> = vec![
        ("dot", format!(r#"{{{head}, "clients": {{"a.b": {{"host": "x.example"}}}}}}"#), "client.a.b"),
        ("nul", format!(r#"{{{head}, "clients": {{"a\u0000": {{"host": "x.example"}}}}}}"#), "client.a\\u{0}"),
        ("esc", format!(r#"{{{head}, "clients": {{"a\u001b[31m": {{"name": "A"}}}}}}"#), "client.a\\u{1b}[31m"),
        ("hash", format!(r#"{{{head}, "clients": {{"a#b": {{"name": "A"}}}}}}"#), "client.a#b"),
        ("empty", format!(r#"{{{head}, "clients": {{"": {{"name": "A"}}}}}}"#), "client.:"),
        ("long", format!(r#"{{{head}, "clients": {{"{long}": {{"name": "A"}}}}}}"#), "at most 64"),
        ("route", format!(r#"{{{head}, "routes": {{"r.1": {{"from": "*@example.com"}}}}}}"#), "route.r.1"),
        ("template", format!(r#"{{{head}, "templates": {{"p.q": {{"subject": "Hi"}}}}}}"#), "templates.p.q"),
        ("client template", format!(r#"{{{head}, "clients": {{"acme": {{"templates": {{"t\u0007": {{"body": "Hi"}}}}}}}}}}"#), "client.acme.templates.t\\u{7}"),
    ];
    for (name, text, named) in cases {
        let f = dir.path().join(format!("{}.json", name.replace(' ', "-")));
        std::fs::write(&f, text).unwrap();
        let r = postdesk(d.path(), &["import", f.to_str().unwrap()], None);
        assert_eq!(r.code, 1, "{name}: {r:?}");
        assert!(r.stderr.contains(named), "{name}: stderr lacks {named:?}: {}", r.stderr);
        assert!(r.stderr.contains("letters, digits"), "{name}: {}", r.stderr);
        assert!(!r.stderr.chars().any(|c| c.is_control() && c != '\n'), "{name}: raw control characters in {:?}", r.stderr);
        assert!(r.stderr.contains("nothing was changed"), "{name}");
        assert!(!d.path().join("config.json").exists(), "{name}: nothing changed");
    }
}

// --- Issue 14: an import that sends stored secrets elsewhere or runs another program ----------

/// An export file of `pairs` made on a machine of its own (no secrets in it).
fn file_with(dir: &Path, name: &str, pairs: &[(&str, &str)]) -> String {
    let other = tempfile::tempdir().unwrap();
    postdesk_tests::configure(other.path(), pairs);
    let file = dir.join(name);
    assert_eq!(postdesk(other.path(), &["export", file.to_str().unwrap()], None).code, 0);
    file.display().to_string()
}

#[test]
fn an_import_that_sends_the_stored_password_to_another_host_needs_allow_redirect() {
    let d = configured();
    let before = std::fs::read(d.path().join("config.json")).unwrap();
    let out = tempfile::tempdir().unwrap();
    let mut pairs: Vec<(String, String)> = Vec::new();
    for k in ["global.enabled", "global.port", "global.security", "global.auth", "global.username", "global.sender.address", "global.sender.name", "support.address", "client.acme.name", "client.acme.host"] {
        pairs.push((k.into(), postdesk(d.path(), &["config", "get", k], None).stdout.trim().to_string()));
    }
    pairs.push(("global.host".into(), "smtp.evil.test".into()));
    let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let file = file_with(out.path(), "evil.json", &pairs);

    // The preview names it; without the opt-in nothing changes and the exit is 1.
    let dry = postdesk(d.path(), &["import", &file, "--dry-run"], None);
    assert_eq!(dry.code, 0, "{dry:?}");
    let notice = "global.host: the stored password of global will now go to smtp.evil.test:587 (starttls)";
    assert!(dry.stdout.contains(notice), "{dry:?}");
    let r = postdesk(d.path(), &["import", &file], None);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains(notice) && r.stderr.contains("--allow-redirect") && r.stderr.contains("nothing was changed"), "{r:?}");
    assert_eq!(std::fs::read(d.path().join("config.json")).unwrap(), before, "nothing changed");
    assert!(!d.path().join("undo-import.json").exists());
    no_canary(&[&dry, &r]);

    let r = postdesk(d.path(), &["import", &file, "--allow-redirect"], None);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(postdesk(d.path(), &["config", "get", "global.host"], None).stdout.trim(), "smtp.evil.test");
    postdesk(d.path(), &["secret", "clear", "global.password"], None);
}

#[test]
fn an_import_that_changes_the_sendmail_program_needs_allow_redirect_even_without_secrets() {
    let d = tempfile::tempdir().unwrap();
    postdesk_tests::configure(d.path(), &[("global.host", "smtp.example.com")]);
    let out = tempfile::tempdir().unwrap();
    let file = file_with(out.path(), "program.json", &[("global.host", "smtp.example.com"), ("global.email_type", "sendmail"), ("global.sendmail_path", "/tmp/not-sendmail")]);
    let r = postdesk(d.path(), &["import", &file], None);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("global.sendmail_path: global will now run the program /tmp/not-sendmail"), "{r:?}");
    assert_eq!(postdesk(d.path(), &["config", "get", "global.sendmail_path"], None).stdout.trim(), "/usr/sbin/sendmail");
    assert_eq!(postdesk(d.path(), &["import", &file, "--allow-redirect"], None).code, 0);
    assert_eq!(postdesk(d.path(), &["config", "get", "global.sendmail_path"], None).stdout.trim(), "/tmp/not-sendmail");
}

#[test]
fn an_import_pointing_microsoft_365_at_another_host_is_refused_or_needs_both_opt_ins() {
    require_keychain();
    let d = tempfile::tempdir().unwrap();
    let m365 = [("global.auth", "m365-graph"), ("global.m365.flow", "app"), ("global.m365.tenant", "contoso.onmicrosoft.com"), ("global.m365.client_id", "72f988bf-86f1-41af-91ab-2d7cd011db47")];
    postdesk_tests::configure(d.path(), &m365);
    assert_eq!(postdesk(d.path(), &["secret", "set", "global.m365.client_secret"], Some(CANARY)).code, 0);
    let dir = tempfile::tempdir().unwrap();
    // Hand-written (an export would refuse the value): no opt-in, so the file is invalid.
    let hostile = dir.path().join("authority.json");
    std::fs::write(&hostile, r#"{"format": "postdesk-config", "version": 1, "global": {"auth": "m365-graph", "m365": {"flow": "app", "tenant": "contoso.onmicrosoft.com", "client_id": "72f988bf-86f1-41af-91ab-2d7cd011db47", "authority": "https://login.evil.example"}}}"#).unwrap();
    let r = postdesk(d.path(), &["import", hostile.to_str().unwrap(), "--allow-redirect"], None);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("global.m365.authority: is not a Microsoft cloud host") && r.stderr.contains("allow_custom_endpoints"), "{r:?}");
    // With the file's own opt-in it is valid, and it is a redirect of the stored client secret.
    let opted = dir.path().join("opted.json");
    std::fs::write(&opted, r#"{"format": "postdesk-config", "version": 1, "global": {"auth": "m365-graph", "m365": {"flow": "app", "tenant": "contoso.onmicrosoft.com", "client_id": "72f988bf-86f1-41af-91ab-2d7cd011db47", "authority": "https://login.evil.example", "allow_custom_endpoints": true}}}"#).unwrap();
    let r = postdesk(d.path(), &["import", opted.to_str().unwrap()], None);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("global.m365.authority: the stored client secret of global will now go to https://login.evil.example"), "{r:?}");
    assert!(r.stderr.contains("global.m365.allow_custom_endpoints"), "{r:?}");
    assert_eq!(postdesk(d.path(), &["config", "get", "global.m365.authority"], None).stdout.trim(), "");
    no_canary(&[&r]);
    postdesk(d.path(), &["secret", "clear", "global.m365.client_secret"], None);
}

#[test]
fn an_error_about_a_file_that_is_not_ours_never_shows_its_contents() {
    let d = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(&str, &[u8])> = vec![
        ("shadow", b"root:$6$canarysalt$canaryhash:19000:0:99999:7:::\n"),
        ("json", br#"{"canary-key": 1, "canary-key": 2}"#),
        ("array", br#"["canary-value"]"#),
    ];
    for (name, bytes) in cases {
        let f = dir.path().join(name);
        std::fs::write(&f, bytes).unwrap();
        let r = postdesk(d.path(), &["import", f.to_str().unwrap()], None);
        assert_eq!(r.code, 1, "{name}: {r:?}");
        assert!(!r.stderr.contains("canary") && !r.stdout.contains("canary"), "{name}: the file's bytes are echoed: {r:?}");
    }
}
