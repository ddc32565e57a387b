//! The command-line contract (../shared/CLI.md): names, exit codes, messages, nothing saved
//! on error. Runs the real binary against a throwaway data directory.

use postdesk_tests::{files_containing, postdesk, require_keychain};
use serde_json::Value;

fn data() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

#[test]
fn set_get_unset_round_trip() {
    let d = data();
    for (key, value) in [
        ("global.host", "smtp.example.com"),
        ("global.port", "587"),
        ("global.security", "starttls"),
        ("global.sender.address", "it@example.com"),
        ("global.sender.name", "IT Service Desk"),
        ("support.address", "help@example.com"),
        ("client.acme.host", "mail.acme.test"),
    ] {
        let r = postdesk(d.path(), &["config", "set", key, value], None);
        assert_eq!(r.code, 0, "set {key}: {r:?}");
        let r = postdesk(d.path(), &["config", "get", key], None);
        assert_eq!((r.code, r.stdout.trim()), (0, value), "get {key}");
    }
    assert_eq!(postdesk(d.path(), &["config", "unset", "global.port"], None).code, 0);
    assert_eq!(postdesk(d.path(), &["config", "get", "global.port"], None).stdout.trim(), "25", "default after unset");
    // A client key falls back to the global one when unset.
    assert_eq!(postdesk(d.path(), &["config", "get", "client.acme.sender.address"], None).stdout.trim(), "it@example.com");
    assert_eq!(postdesk(d.path(), &["config", "unset", "client.acme.host"], None).code, 0);
    assert_eq!(postdesk(d.path(), &["config", "get", "client.acme.host"], None).stdout.trim(), "smtp.example.com");
}

#[test]
fn invalid_value_exits_2_names_the_key_and_saves_nothing() {
    let d = data();
    assert_eq!(postdesk(d.path(), &["config", "set", "global.port", "587"], None).code, 0);
    let before = std::fs::read(d.path().join("config.json")).unwrap();
    for (key, value, says) in [
        ("global.port", "70000", "1 to 65535"),
        ("global.port", "abc", "1 to 65535"),
        ("global.host", "smtp..example.com", "host name"),
        ("global.sender.address", "not-an-address", "e-mail address"),
        ("global.sender.name", "IT\r\nBcc: x@example.com", "line breaks"),
        ("global.security", "ssl", "none, starttls, tls"),
        ("global.m365.client_id", "abc", "GUID"),
        ("global.m365.tenant", "contoso", "tenant"),
        ("global.m365.secret_expires", "2026-02-30", "YYYY-MM-DD"),
        ("global.m365.authority", "http://login.example.com", "https"),
    ] {
        let r = postdesk(d.path(), &["config", "set", key, value], None);
        assert_eq!(r.code, 2, "{key}={value:?}: {r:?}");
        assert!(r.stderr.contains(key), "{key}: stderr names the key: {}", r.stderr);
        assert!(r.stderr.contains(says), "{key}: stderr says why: {}", r.stderr);
        assert_eq!(std::fs::read(d.path().join("config.json")).unwrap(), before, "{key}: nothing saved");
    }
}

#[test]
fn unknown_key_exits_2() {
    let d = data();
    for args in [&["config", "set", "global.hots", "x"][..], &["config", "get", "global.nope"], &["config", "unset", "nope"]] {
        let r = postdesk(d.path(), args, None);
        assert_eq!(r.code, 2, "{args:?}: {r:?}");
        assert!(r.stderr.contains("unknown key"), "{}", r.stderr);
    }
    assert!(!d.path().join("config.json").exists());
}

#[test]
fn an_unknown_key_is_named_once_with_the_nearest_known_key() {
    let d = data();
    for (args, key, near) in [
        (&["config", "get", "global.hots"][..], "global.hots", Some("global.host")),
        (&["config", "set", "global.hots", "x"], "global.hots", Some("global.host")),
        (&["config", "unset", "global.enable"], "global.enable", Some("global.enabled")),
        (&["config", "set", "client.acme.hots", "x"], "client.acme.hots", Some("client.acme.host")),
        (&["config", "set", "route.billing.form", "*@b.test"], "route.billing.form", Some("route.billing.from")),
        (&["config", "get", "nothing.here"], "nothing.here", None),
    ] {
        let r = postdesk(d.path(), args, None);
        assert_eq!(r.code, 2, "{args:?}: {r:?}");
        assert_eq!(r.stderr.lines().count(), 1, "{args:?}: one line: {}", r.stderr);
        assert_eq!(r.stderr.matches(&format!("{key}:")).count(), 1, "{args:?}: the key is named once: {}", r.stderr);
        assert!(r.stderr.starts_with(&format!("postdesk: {key}: unknown key")), "{args:?}: {}", r.stderr);
        match near {
            Some(near) => assert!(r.stderr.contains(&format!("did you mean {near}?")), "{args:?}: {}", r.stderr),
            None => assert!(!r.stderr.contains("did you mean"), "{args:?}: no guess when nothing is near: {}", r.stderr),
        }
        assert!(r.stderr.contains("postdesk config show"), "{args:?}: says where the keys are: {}", r.stderr);
    }
    assert!(!d.path().join("config.json").exists());
}

#[test]
fn help_opens_with_what_postdesk_does_for_an_admin() {
    let d = data();
    for args in [&["--help"][..], &["help"]] {
        let r = postdesk(d.path(), args, None);
        assert_eq!(r.code, 0, "{r:?}");
        let first = r.stdout.lines().next().unwrap_or_default();
        assert!(first.starts_with("Postdesk: set up, test and ship your organization's outgoing mail"), "{args:?}: {first}");
        let intro: String = r.stdout.split("Usage:").next().unwrap().to_string();
        for builder_word in ["adapter", "postdesk-core", "crate", "Tauri", "clap"] {
            assert!(!intro.contains(builder_word), "{args:?}: the opening speaks of how it is built ({builder_word}): {intro}");
        }
    }
    // -h stays short: the one line that says what it does.
    let r = postdesk(d.path(), &["-h"], None);
    assert!(r.stdout.starts_with("Postdesk: set up, test and ship"), "{}", r.stdout);
}

#[test]
fn usage_errors_exit_2() {
    let d = data();
    assert_eq!(postdesk(d.path(), &["config", "set", "global.host"], None).code, 2);
    assert_eq!(postdesk(d.path(), &["frobnicate"], None).code, 2);
}

#[test]
fn utf8_addresses_need_utf8_headers() {
    let d = data();
    let r = postdesk(d.path(), &["config", "set", "global.sender.address", "jörg@bücher.example"], None);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("UTF-8 headers"), "{}", r.stderr);
    assert_eq!(postdesk(d.path(), &["config", "set", "global.utf8_headers", "true"], None).code, 0);
    assert_eq!(postdesk(d.path(), &["config", "set", "global.sender.address", "jörg@bücher.example"], None).code, 0);
    // Turning UTF-8 headers off would make the saved address invalid: refused, named.
    let r = postdesk(d.path(), &["config", "set", "global.utf8_headers", "false"], None);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("global.sender.address"), "{}", r.stderr);
}

#[test]
fn check_reports_each_problem_and_exit_code() {
    require_keychain();
    let d = data();
    let r = postdesk(d.path(), &["check"], None);
    assert_eq!(r.code, 0, "empty config is fine while the server is off: {r:?}");
    postdesk(d.path(), &["config", "set", "global.enabled", "true"], None);
    let r = postdesk(d.path(), &["check"], None);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stdout.contains("global.host: required"), "{}", r.stdout);
    assert!(r.stdout.contains("global.sender.address: required"), "{}", r.stdout);
    for (k, v) in [("global.host", "smtp.example.com"), ("global.sender.address", "it@example.com")] {
        assert_eq!(postdesk(d.path(), &["config", "set", k, v], None).code, 0);
    }
    // Warnings (port 25) do not change the exit code.
    let r = postdesk(d.path(), &["check", "--json"], None);
    assert_eq!(r.code, 0, "{r:?}");
    let json: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(json["ok"], true);
    let problems = json["problems"].as_array().unwrap();
    assert!(problems.iter().any(|p| p["key"] == "global.port" && p["severity"] == "warning"), "{problems:?}");
    // Password auth without a password in the keychain is an error.
    postdesk(d.path(), &["config", "set", "global.auth", "password"], None);
    postdesk(d.path(), &["config", "set", "global.username", "it"], None);
    let r = postdesk(d.path(), &["check"], None);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("global.password: no password is saved: enter it under Security (or run `postdesk secret set global.password`)"), "{}", r.stdout);
}

#[test]
fn check_names_a_missing_ca_file() {
    require_keychain();
    let d = data();
    let missing = d.path().join("no-such-ca.pem");
    assert_eq!(postdesk(d.path(), &["config", "set", "global.ca_file", missing.to_str().unwrap()], None).code, 0);
    let r = postdesk(d.path(), &["check"], None);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("global.ca_file: cannot be read"), "{}", r.stdout);
}

#[test]
fn corrupt_file_exits_2_and_is_kept_and_named() {
    let d = data();
    std::fs::write(d.path().join("config.json"), "{ this is not json").unwrap();
    let r = postdesk(d.path(), &["config", "get", "global.host"], None);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("config.json.corrupt-"), "{}", r.stderr);
    let kept: Vec<_> = std::fs::read_dir(d.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("config.json.corrupt-"))
        .collect();
    assert_eq!(kept.len(), 1);
    assert_eq!(std::fs::read_to_string(&kept[0]).unwrap(), "{ this is not json");
    assert!(r.stderr.contains(&kept[0].display().to_string()));
}

#[test]
fn a_damaged_file_kept_aside_stays_reported_by_check_until_settings_are_saved() {
    require_keychain();
    let d = data();
    std::fs::write(d.path().join("config.json"), "{ this is not json").unwrap();
    assert_eq!(postdesk(d.path(), &["config", "get", "global.host"], None).code, 2);
    // The next runs load the defaults, but check does not call that fine.
    for _ in 0..2 {
        let r = postdesk(d.path(), &["check"], None);
        assert_eq!(r.code, 1, "{r:?}");
        assert!(r.stdout.contains("the settings file was damaged and kept as") && r.stdout.contains("config.json.corrupt-"), "{r:?}");
    }
    assert_eq!(postdesk(d.path(), &["config", "set", "global.host", "smtp.example.com"], None).code, 0);
    let r = postdesk(d.path(), &["check"], None);
    assert!(!r.stdout.contains("damaged"), "{r:?}");
}

#[test]
fn config_show_masks_secrets() {
    require_keychain();
    let d = data();
    postdesk(d.path(), &["config", "set", "global.host", "smtp.example.com"], None);
    assert_eq!(postdesk(d.path(), &["secret", "set", "global.password"], Some("S3cr3t-show\n")).code, 0);
    let text = postdesk(d.path(), &["config", "show"], None);
    assert_eq!(text.code, 0);
    assert!(text.stdout.contains("global.host = smtp.example.com\n"), "{}", text.stdout);
    assert!(text.stdout.contains("global.port = 25  (default)"), "{}", text.stdout);
    assert!(text.stdout.contains("global.password = <set>"), "{}", text.stdout);
    let json = postdesk(d.path(), &["config", "show", "--json"], None);
    let doc: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["global"]["host"], "smtp.example.com");
    assert_eq!(doc["global"]["password"], "<set>");
    assert_eq!(doc["global"]["m365"]["client_secret"], "<not set>");
    for out in [&text.stdout, &text.stderr, &json.stdout, &json.stderr] {
        assert!(!out.contains("S3cr3t-show"));
    }
    assert!(files_containing(d.path(), "S3cr3t-show").is_empty());
    postdesk(d.path(), &["secret", "clear", "global.password"], None);
}

#[test]
fn secrets_cannot_be_set_as_plain_values() {
    let d = data();
    let r = postdesk(d.path(), &["config", "set", "global.password", "hunter2"], None);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("secret set"), "{}", r.stderr);
    assert!(!r.stderr.contains("hunter2"));
    let r = postdesk(d.path(), &["secret", "set", "global.host"], Some("x"));
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("not a secret"), "{}", r.stderr);
}

#[test]
fn route_names_the_server_or_says_why_no_mail_is_sent() {
    let d = data();
    let r = postdesk(d.path(), &["route", "--from", "it@example.com", "--json"], None);
    assert_eq!(r.code, 0, "{r:?}");
    let json: Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(json["source"].is_null(), "{json}");
    assert!(json["reason"].as_str().unwrap().contains("global mail server is off"), "{json}");
    for (k, v) in [("global.enabled", "true"), ("global.host", "smtp.example.com"), ("global.port", "587"), ("global.security", "starttls"), ("client.acme.name", "ACME")] {
        assert_eq!(postdesk(d.path(), &["config", "set", k, v], None).code, 0);
    }
    let json: Value = serde_json::from_str(&postdesk(d.path(), &["route", "--client", "acme", "--from", "it@example.com", "--json"], None).stdout).unwrap();
    assert_eq!(json["source"], "global");
    assert_eq!(json["server"]["host"], "smtp.example.com");
    assert_eq!(json["server"]["port"], 587);
    assert_eq!(json["server"]["security"], "starttls");
    assert!(json["reason"].as_str().unwrap().contains("acme"), "{json}");
    let r = postdesk(d.path(), &["route", "--client", "nope", "--from", "it@example.com"], None);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("client.nope"), "{}", r.stderr);
}

#[test]
fn test_mail_with_the_server_off_exits_2_at_config() {
    let d = data();
    let r = postdesk(d.path(), &["test-mail", "--to", "a@example.com"], None);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stdout.contains("✗ config"), "{}", r.stdout);
    assert!(r.stderr.contains("No mail is sent at all"), "{}", r.stderr);
}

#[test]
fn route_by_from_address_names_the_route_and_why() {
    let d = data();
    for (k, v) in [("global.enabled", "true"), ("global.host", "smtp.example.com"), ("route.billing.enabled", "true"), ("route.billing.from", "*@billing.example.com"), ("route.billing.host", "smtp.billing.test")] {
        assert_eq!(postdesk(d.path(), &["config", "set", k, v], None).code, 0, "{k}");
    }
    let json: Value = serde_json::from_str(&postdesk(d.path(), &["route", "--from", "inv@billing.example.com", "--json"], None).stdout).unwrap();
    assert_eq!(json["source"], "route:billing");
    assert_eq!(json["server"]["host"], "smtp.billing.test");
    assert!(json["reason"].as_str().unwrap().contains("*@billing.example.com, domain"), "{json}");
    let json: Value = serde_json::from_str(&postdesk(d.path(), &["route", "--from", "it@example.com", "--json"], None).stdout).unwrap();
    assert_eq!(json["source"], "global");
    let r = postdesk(d.path(), &["config", "set", "route.billing.from", "billing"], None);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("route.billing.from"), "{}", r.stderr);
}

#[test]
fn preset_apply_saves_the_provider_settings_and_says_what_is_left_to_do() {
    let d = tempfile::tempdir().unwrap();
    let r = postdesk(d.path(), &["preset", "list"], None);
    assert_eq!(r.code, 0);
    for id in ["microsoft365", "outlook", "gmail", "ses", "sendgrid", "mailgun", "postmark", "custom"] {
        assert!(r.stdout.contains(id), "{id}: {}", r.stdout);
    }
    let r = postdesk(d.path(), &["preset", "apply", "gmail", "--variant", "465"], None);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("app password"), "{}", r.stdout);
    assert!(r.stdout.contains("Port 25"), "{}", r.stdout);
    for (key, value) in [("global.host", "smtp.gmail.com"), ("global.port", "465"), ("global.security", "tls"), ("global.auth", "password")] {
        assert_eq!(postdesk(d.path(), &["config", "get", key], None).stdout.trim(), value, "{key}");
    }
    let r = postdesk(d.path(), &["preset", "apply", "ses", "--variant", "mars-1"], None);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("eu-west-1"), "{}", r.stderr);
    let r = postdesk(d.path(), &["preset", "apply", "hotmail"], None);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("microsoft365"), "{}", r.stderr);
    assert_eq!(postdesk(d.path(), &["config", "get", "global.port"], None).stdout.trim(), "465", "a refused preset changes nothing");
    let json: serde_json::Value = serde_json::from_str(&postdesk(d.path(), &["preset", "list", "--json"], None).stdout).unwrap();
    assert_eq!(json[0]["settings"]["global.host"], "smtp.office365.com");
}

/// No raw control character reaches the terminal in what the CLI prints.
fn no_control_characters(text: &str) {
    assert!(!text.chars().any(|c| c.is_control() && c != '\n' && c != '\t'), "raw control characters in {text:?}");
}

/// ESC, DEL and C1 controls are refused in every value that reaches a header or a terminal,
/// with the key named and nothing saved.
#[test]
fn control_characters_are_refused_naming_the_key() {
    let d = data();
    assert_eq!(postdesk(d.path(), &["config", "set", "global.utf8_headers", "true"], None).code, 0);
    let before = std::fs::read(d.path().join("config.json")).unwrap();
    for (key, value) in [
        ("global.sender.name", "a\x1b[31mb"),
        ("global.reply_to.name", "a\u{9b}31mb"),
        ("global.username", "it\x7f"),
        ("global.host", "a\x1b.example.com"),
        ("client.acme.name", "ACME\x1b]0;owned\x07"),
        ("route.r1.from", "a\u{85}b@example.com"),
        // UTF-8 headers allow non-ASCII addresses, but not the C1 controls among them.
        ("client.acme.sender.alternatives", "ok@example.com\na\u{85}b@example.com"),
        ("templates.power.subject", "Welcome \x1b[2J"),
        ("templates.power.body", "Hello\x1b[31m {{name}}"),
    ] {
        let r = postdesk(d.path(), &["config", "set", key, value], None);
        assert_eq!(r.code, 2, "{key}={value:?}: {r:?}");
        assert!(r.stderr.contains(key), "{key}: stderr names the key: {}", r.stderr);
        assert!(r.stderr.contains("control characters"), "{key}: {}", r.stderr);
        no_control_characters(&r.stderr);
        assert_eq!(std::fs::read(d.path().join("config.json")).unwrap(), before, "{key}: nothing saved");
    }
    // A key with a control character in its ID is refused without echoing it raw.
    let r = postdesk(d.path(), &["config", "set", "client.a\x1b[31m.host", "x.example"], None);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("client.a\\u{1b}[31m.host") && r.stderr.contains("letters, digits"), "{}", r.stderr);
    no_control_characters(&r.stderr);
}

/// The support subject becomes a header: no line break, no control character.
#[test]
fn support_subject_with_control_characters_is_refused() {
    let d = data();
    for subject in ["x\r\nBcc: y@example.com", "x\x1b[31m", "x\u{9b}2J"] {
        let r = postdesk(d.path(), &["support", "--subject", subject, "--preview"], Some("Please help.\n"));
        assert_eq!(r.code, 2, "{subject:?}: {r:?}");
        assert!(r.stderr.contains("subject:"), "{subject:?}: {}", r.stderr);
        no_control_characters(&r.stderr);
    }
    let r = postdesk(d.path(), &["support", "--subject", "Help", "--preview"], Some("Please \x1b[2Jhelp.\n"));
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("message:") && r.stderr.contains("control characters"), "{}", r.stderr);
}

// --- Issue 14: where stored secrets go and which program runs ---------------------------------

#[test]
fn config_set_names_where_a_stored_password_will_now_go() {
    require_keychain();
    let d = data();
    for (k, v) in [("global.host", "smtp.old.example"), ("global.port", "587"), ("global.security", "starttls"), ("global.auth", "password")] {
        assert_eq!(postdesk(d.path(), &["config", "set", k, v], None).code, 0);
    }
    // Without a stored password, a new host sends nothing anywhere: no notice.
    let r = postdesk(d.path(), &["config", "set", "global.host", "smtp.new.example"], None);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(!r.stderr.contains("will now go to"), "{r:?}");
    assert_eq!(postdesk(d.path(), &["secret", "set", "global.password"], Some("canary-Pw-1")).code, 0);
    let r = postdesk(d.path(), &["config", "set", "global.host", "smtp.other.example"], None);
    assert_eq!(r.code, 0, "a notice, not a refusal: {r:?}");
    assert!(r.stderr.contains("global.host: the stored password of global will now go to smtp.other.example:587 (starttls)"), "{r:?}");
    let r = postdesk(d.path(), &["config", "set", "global.tls_verify", "false"], None);
    assert!(r.stderr.contains("certificates not verified"), "{r:?}");
    // A client's own host with no password of its own: global's password goes there.
    let r = postdesk(d.path(), &["config", "set", "client.acme.host", "smtp.acme.example"], None);
    assert!(r.stderr.contains("client.acme.host: the stored password of global will now go to smtp.acme.example:587"), "{r:?}");
    // A preset says it too.
    let r = postdesk(d.path(), &["preset", "apply", "gmail"], None);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stderr.contains("the stored password of global will now go to smtp.gmail.com:587"), "{r:?}");
    // Keys that send nothing elsewhere say nothing.
    let r = postdesk(d.path(), &["config", "set", "global.sender.address", "it@example.com"], None);
    assert!(!r.stderr.contains("notice"), "{r:?}");
    assert!(!r.stderr.contains("canary"));
    postdesk(d.path(), &["secret", "clear", "global.password"], None);
}

#[test]
fn config_set_and_preset_apply_name_a_new_sendmail_program_and_endpoints() {
    let d = data();
    let r = postdesk(d.path(), &["config", "set", "global.sendmail_path", "/tmp/some-program"], None);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stderr.contains("global.sendmail_path: global will now run the program /tmp/some-program"), "{r:?}");
    let r = postdesk(d.path(), &["config", "set", "client.acme.email_type", "sendmail"], None);
    assert!(r.stderr.contains("client.acme.email_type: client.acme will now run the program /tmp/some-program"), "{r:?}");
    // Microsoft 365 endpoints: Microsoft's clouds and loopback, else only with the opt-in.
    for ok in ["https://login.microsoftonline.us", "http://127.0.0.1:8080"] {
        assert_eq!(postdesk(d.path(), &["config", "set", "global.m365.authority", ok], None).code, 0, "{ok}");
    }
    let r = postdesk(d.path(), &["config", "set", "global.m365.graph_url", "https://graph.evil.example"], None);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("global.m365.graph_url: is not a Microsoft cloud host") && r.stderr.contains("global.m365.allow_custom_endpoints"), "{r:?}");
    assert_eq!(postdesk(d.path(), &["config", "set", "global.m365.allow_custom_endpoints", "true"], None).code, 0);
    assert_eq!(postdesk(d.path(), &["config", "set", "global.m365.graph_url", "https://graph.evil.example"], None).code, 0);
    // Turning the opt-in off again while such a URL is stored is refused.
    let r = postdesk(d.path(), &["config", "set", "global.m365.allow_custom_endpoints", "false"], None);
    assert_eq!(r.code, 2, "{r:?}");
}
