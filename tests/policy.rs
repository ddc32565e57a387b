//! The organization's policy through the real `postdesk` binary (POSTDESK_BIN) with a policy
//! file (`POSTDESK_POLICY_FILE`): values in force but never in the user's file, locked keys
//! refused by `config set`/`unset`, `import` and `preset apply` with exit 2 naming the key and
//! the file, an invalid policy reported by `check`, `policy show` as text and JSON, and a test
//! mail really sent through the server the policy sets (real Postfix).

use std::path::{Path, PathBuf};

use postdesk_tests::{mailstack, postdesk_env, require_keychain, unique_local, wait_for_mail, Run};
use serde_json::Value;

const HOST: &str = "smtp.policy.example";

/// A data directory and a policy file beside it.
struct Machine {
    dir: tempfile::TempDir,
    policy: PathBuf,
}

impl Machine {
    fn new(policy: &str) -> Machine {
        require_keychain();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("policy.json");
        std::fs::write(&path, policy).unwrap();
        Machine { dir, policy: path }
    }
    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }
    fn run(&self, args: &[&str]) -> Run {
        postdesk_env(&self.data(), args, None, &[("POSTDESK_POLICY_FILE", self.policy.to_str().unwrap())])
    }
    fn ok(&self, args: &[&str]) -> Run {
        let r = self.run(args);
        assert_eq!(r.code, 0, "{args:?}: {r:?}");
        r
    }
    /// The user's own file, as saved.
    fn user_file(&self) -> String {
        std::fs::read_to_string(self.data().join("config.json")).unwrap_or_default()
    }
    fn policy_path(&self) -> String {
        self.policy.display().to_string()
    }
    /// The organization (re)writes its policy.
    fn install(&self, policy: &str) {
        std::fs::write(&self.policy, policy).unwrap();
    }
}

const STANDARD: &str = r#"{"set": {"global.enabled": "true", "global.host": "smtp.policy.example", "global.security": "starttls", "global.port": "587"},
    "lock": ["global.host", "global.security", "client.*.host"]}"#;

/// A user's settings (made before the organization's policy came), then the policy.
fn standard() -> Machine {
    let m = Machine::new("{}");
    m.ok(&["config", "set", "global.sender.address", "it@example.org"]);
    m.ok(&["config", "set", "client.acme.host", "smtp.acme.example"]);
    m.install(STANDARD);
    m
}

#[test]
fn config_set_and_unset_of_a_locked_key_exit_2_naming_the_key_and_the_file() {
    let m = standard();
    let before = m.user_file();
    for args in [
        &["config", "set", "global.host", "evil.example.org"][..],
        &["config", "unset", "global.host"],
        &["config", "set", "global.security", "none"],
        &["config", "set", "client.acme.host", "evil.example.org"],
        &["config", "set", "client.new.host", "evil.example.org"],
    ] {
        let r = m.run(args);
        assert_eq!(r.code, 2, "{args:?}: {r:?}");
        assert!(r.stderr.contains(args[2]) && r.stderr.contains(&m.policy_path()) && r.stderr.contains("nothing was changed"), "{args:?}: {r:?}");
        assert_eq!(m.user_file(), before, "{args:?} changed the file");
    }
    assert_eq!(m.ok(&["config", "get", "global.host"]).stdout.trim(), HOST);
    assert_eq!(m.ok(&["config", "get", "client.acme.host"]).stdout.trim(), "smtp.acme.example");
    // An unlocked key the policy sets: the user's own value wins and is saved as theirs.
    m.ok(&["config", "set", "global.port", "2525"]);
    assert_eq!(m.ok(&["config", "get", "global.port"]).stdout.trim(), "2525");
    assert!(m.user_file().contains("2525"));
}

#[test]
fn policy_values_are_in_force_and_marked_but_never_in_the_users_file() {
    let m = standard();
    let get = m.ok(&["config", "get", "global.host"]);
    assert_eq!(get.stdout.trim(), HOST, "stdout is the value alone");
    assert!(get.stderr.contains("set and locked by the organization's policy") && get.stderr.contains(&m.policy_path()), "{get:?}");
    let show = m.ok(&["config", "show"]).stdout;
    assert!(show.contains(&format!("global.host = {HOST}  (policy, locked)")), "{show}");
    assert!(show.contains("global.port = 587  (policy)"), "{show}");
    assert!(show.contains("client.acme.host = smtp.acme.example  (locked by policy)"), "{show}");
    assert!(show.contains("global.sender.address = it@example.org\n"), "{show}");
    // Every save rewrites the file: still none of the policy's values in it.
    m.ok(&["config", "set", "global.sender.name", "IT"]);
    let file = m.user_file();
    assert!(!file.contains(HOST) && !file.contains("starttls") && !file.contains("587") && !file.contains("enabled"), "{file}");
    // Exported settings are the user's own.
    let export = m.dir.path().join("export.json");
    m.ok(&["export", export.to_str().unwrap()]);
    assert!(!std::fs::read_to_string(&export).unwrap().contains(HOST));
    // The route a mail takes uses the policy's server.
    let route = m.ok(&["route", "--from", "it@example.org"]).stdout;
    assert!(route.contains(&format!("{HOST}:587")), "{route}");
}

#[test]
fn import_and_preset_that_change_a_locked_key_are_refused_with_the_keys_listed() {
    let m = standard();
    let before = m.user_file();
    // The user's own export imports again (it does not mention the policy's keys).
    let own = m.dir.path().join("own.json");
    m.ok(&["export", own.to_str().unwrap()]);
    m.ok(&["import", own.to_str().unwrap()]);
    // Its undo restores the user's own document, the policy still over it and out of the file.
    m.ok(&["import", "--undo"]);
    assert!(!m.user_file().contains(HOST), "{}", m.user_file());
    assert_eq!(m.ok(&["config", "get", "global.host"]).stdout.trim(), HOST);
    // A file that changes locked keys.
    let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(&own).unwrap()).unwrap();
    doc["global"]["host"] = "evil.example.org".into();
    doc["clients"]["acme"]["host"] = "evil.acme.example".into();
    let hostile = m.dir.path().join("hostile.json");
    std::fs::write(&hostile, serde_json::to_string(&doc).unwrap()).unwrap();
    let dry = m.ok(&["import", hostile.to_str().unwrap(), "--dry-run"]);
    assert!(dry.stdout.contains("# global.host: locked") && dry.stdout.contains("# client.acme.host: locked") && dry.stdout.contains(&m.policy_path()), "{dry:?}");
    let r = m.run(&["import", hostile.to_str().unwrap()]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("global.host, client.acme.host") || r.stderr.contains("client.acme.host, global.host"), "{r:?}");
    assert!(r.stderr.contains("nothing was changed") && r.stderr.contains(&m.policy_path()), "{r:?}");
    assert_eq!(m.ok(&["config", "get", "global.host"]).stdout.trim(), HOST);
    assert_eq!(m.ok(&["config", "get", "client.acme.host"]).stdout.trim(), "smtp.acme.example");
    // A preset that sets the locked server.
    let p = m.run(&["preset", "apply", "gmail"]);
    assert_eq!(p.code, 2, "{p:?}");
    assert!(p.stderr.contains("global.host: cannot be changed") && p.stderr.contains(&m.policy_path()), "{p:?}");
    assert_eq!(m.user_file(), before);
}

#[test]
fn an_invalid_policy_is_reported_by_check_and_locks_everything() {
    let m = Machine::new(r#"{"set": {"global.port": "99999", "global.password": "x"}, "locks": ["global.host"]}"#);
    let check = m.run(&["check"]);
    assert_eq!(check.code, 1, "an invalid configuration: {check:?}");
    let line = check.stdout.lines().find(|l| l.starts_with("policy: ")).unwrap_or_else(|| panic!("{check:?}"));
    assert!(line.contains(&m.policy_path()) && line.contains("global.port: must be a whole number") && line.contains("locks: unknown name") && line.contains("global.password: is a secret"), "{line}");
    assert!(line.contains("every setting is locked"), "{line}");
    let json: Value = serde_json::from_str(&m.run(&["check", "--json"]).stdout).unwrap();
    assert_eq!(json["ok"], false);
    assert!(json["problems"].as_array().unwrap().iter().any(|p| p["key"] == "policy"));
    let set = m.run(&["config", "set", "global.sender.address", "it@example.org"]);
    assert_eq!(set.code, 2, "{set:?}");
    assert!(set.stderr.contains("invalid") && set.stderr.contains(&m.policy_path()), "{set:?}");
    // Reading still works.
    let port = m.run(&["config", "get", "global.port"]);
    assert_eq!(port.code, 0, "{port:?}");
    assert_ne!(port.stdout.trim(), "99999", "a broken policy's values are not used");
    let shown = m.run(&["policy", "show"]);
    assert_eq!(shown.code, 1);
    assert!(shown.stdout.contains(&m.policy_path()) && shown.stdout.contains("invalid: ") && shown.stdout.contains("every setting is locked"), "{shown:?}");
    // Not JSON at all, and too large.
    std::fs::write(&m.policy, "{\"set\": ").unwrap();
    assert!(m.run(&["check"]).stdout.contains("is not valid JSON"));
    std::fs::write(&m.policy, vec![b' '; 300 * 1024]).unwrap();
    assert!(m.run(&["check"]).stdout.contains("is larger than 256 KiB"));
}

#[test]
fn policy_show_prints_what_is_set_and_locked_and_where_from() {
    let m = standard();
    let text = m.ok(&["policy", "show"]).stdout;
    assert!(text.starts_with(&format!("policy: {}\n", m.policy_path())), "{text}");
    assert!(text.contains(&format!("  global.host = {HOST}\n")) && text.contains("locks:\n  global.host\n  global.security\n  client.*.host\n"), "{text}");
    let json: Value = serde_json::from_str(&m.ok(&["policy", "show", "--json"]).stdout).unwrap();
    assert_eq!(json["file"], m.policy_path());
    assert_eq!(json["exists"], true);
    assert_eq!(json["set"]["global.host"], HOST);
    assert_eq!(json["lock"], serde_json::json!(["global.host", "global.security", "client.*.host"]));
    assert_eq!(json["error"], Value::Null);
    assert_eq!(json["locks_everything"], false);
    // No policy file at all.
    std::fs::remove_file(&m.policy).unwrap();
    let none = m.ok(&["policy", "show"]).stdout;
    assert!(none.contains("no policy") && none.contains(&m.policy_path()), "{none}");
    assert_eq!(m.ok(&["config", "set", "global.host", "mine.example.org"]).code, 0, "no policy: nothing locked");
}

#[test]
fn a_test_mail_goes_through_the_server_the_policy_sets() {
    let env = mailstack();
    let port = &env["MAIL_PLAIN_PORT"];
    let m = Machine::new(&format!(r#"{{"set": {{"global.enabled": "true", "global.host": "127.0.0.1", "global.port": "{port}", "global.security": "none"}}, "lock": ["global"]}}"#));
    // The user sets only what the policy leaves open (not global: it is locked whole).
    let r = m.run(&["config", "set", "global.sender.address", "it@example.test"]);
    assert_eq!(r.code, 2, "the whole global scope is locked: {r:?}");
    let policy = std::fs::read_to_string(&m.policy).unwrap().replace(r#""lock": ["global"]"#, r#""lock": ["global.host", "global.port"]"#);
    std::fs::write(&m.policy, policy).unwrap();
    m.ok(&["config", "set", "global.sender.address", "it@example.test"]);
    m.ok(&["config", "set", "global.timeout_secs", "5"]);
    let to = format!("{}@example.test", unique_local("policy"));
    let run = m.run(&["test-mail", "--to", &to, "--json"]);
    let report: Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {run:?}"));
    assert_eq!(report["ok"], true, "{report}");
    let mail = wait_for_mail(Path::new(&env["MAIL_SINK"]), &format!("To: {to}"));
    assert!(mail.contains(&format!("Server:          127.0.0.1:{port}")), "{mail}");
    assert!(!m.user_file().contains(port.as_str()), "the policy's port was saved: {}", m.user_file());
}
