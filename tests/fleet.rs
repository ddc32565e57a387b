//! Rolling out with the fleet tools: contrib/ansible/postdesk_config.py run by the real
//! `ansible-playbook` (ansible-core from PyPI, pinned in the venv target/test-venv by
//! scripts/install-deps.sh test) against this machine (connection local), the test's own HOME
//! and the wrapper's keychain; and `import --json` / `secret set --json` underneath it.

use std::path::{Path, PathBuf};
use std::process::Command;

use postdesk_core::secrets::Keychain;
use postdesk_tests::{files_containing, postdesk, postdesk_bin, require_keychain, root, Run};
use serde_json::Value;

/// Distinctive, so any trace of it in Ansible's output or a file is found.
const CANARY: &str = "Fleet-Canary-7f3a9c-Secret";
const ROTATED: &str = "Fleet-Rotated-41d2e8-Secret";

fn show(d: &Path) -> Value {
    serde_json::from_str(&postdesk(d, &["config", "show", "--json"], None).stdout).unwrap()
}

fn stored(d: &Path, key: &str) -> Option<String> {
    Keychain::for_data_dir(d).get(key).unwrap().map(|s| s.expose().to_string())
}

/// An admin's machine with settings (no secrets in the file) exported to `dir/export.json`.
fn exported(dir: &Path, host: &str) -> PathBuf {
    let admin = dir.join(format!("admin-{host}"));
    for (k, v) in [
        ("global.enabled", "true"),
        ("global.host", host),
        ("global.port", "587"),
        ("global.security", "starttls"),
        ("global.auth", "password"),
        ("global.username", "it@example.com"),
        ("global.sender.address", "it@example.com"),
        ("support.address", "helpdesk@example.com"),
        ("client.acme.name", "ACME"),
        ("client.acme.host", "smtp.acme.test"),
    ] {
        assert_eq!(postdesk(&admin, &["config", "set", k, v], None).code, 0, "{k}");
    }
    let file = dir.join(format!("export-{host}.json"));
    let r = postdesk(&admin, &["export", file.to_str().unwrap()], None);
    assert_eq!(r.code, 0, "{r:?}");
    file
}

fn json(r: &Run) -> Value {
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {r:?}"))
}

#[test]
fn import_json_reports_the_change_once_and_nothing_the_second_time() {
    require_keychain();
    let dir = tempfile::tempdir().unwrap();
    let file = exported(dir.path(), "smtp.example.com");
    let f = file.to_str().unwrap();
    let target = dir.path().join("target");
    let dry = postdesk(&target, &["import", f, "--dry-run", "--json"], None);
    assert_eq!(dry.code, 0, "{dry:?}");
    let report = json(&dry);
    assert_eq!(report["changed"], true);
    assert!(report["added"].as_array().unwrap().contains(&"global.host".into()), "{report}");
    assert_eq!(report["changed_keys"], serde_json::json!([]));
    assert_eq!(report["removed"], serde_json::json!([]));
    assert_eq!(report["secrets"], serde_json::json!([]));
    assert_eq!(report["secrets_missing"], serde_json::json!([]));
    assert!(!target.join("config.json").exists(), "dry run changed nothing");

    let first = postdesk(&target, &["import", f, "--json"], None);
    assert_eq!(first.code, 0, "{first:?}");
    assert_eq!(json(&first), report, "the applied change is the one previewed");
    let after_first = std::fs::read(target.join("config.json")).unwrap();
    let second = postdesk(&target, &["import", f, "--json"], None);
    assert_eq!(second.code, 0, "{second:?}");
    assert_eq!(json(&second), serde_json::json!({"changed": false, "added": [], "changed_keys": [], "removed": [], "secrets": [], "secrets_missing": [], "redirects": []}));
    assert_eq!(std::fs::read(target.join("config.json")).unwrap(), after_first);
    assert_eq!(json(&postdesk(&target, &["import", f, "--dry-run", "--json"], None))["changed"], false);

    // One value changed, one key removed on the admin's side: named as such.
    let admin = dir.path().join("admin-smtp.example.com");
    postdesk(&admin, &["config", "set", "global.port", "465"], None);
    postdesk(&admin, &["config", "set", "global.security", "tls"], None);
    postdesk(&admin, &["config", "unset", "support.address"], None);
    postdesk(&admin, &["export", f], None);
    let r = postdesk(&target, &["import", f, "--json"], None);
    assert_eq!(r.code, 0, "{r:?}");
    let report = json(&r);
    assert_eq!(report["changed_keys"], serde_json::json!(["global.port", "global.security"]));
    assert_eq!(report["removed"], serde_json::json!(["support.address"]));
    assert_eq!(report["added"], serde_json::json!([]));
}

#[test]
fn import_json_with_carried_secrets_compares_them_in_process() {
    require_keychain();
    let dir = tempfile::tempdir().unwrap();
    let admin = dir.path().join("admin");
    assert_eq!(postdesk(&admin, &["config", "set", "global.host", "smtp.example.com"], None).code, 0);
    assert_eq!(postdesk(&admin, &["secret", "set", "global.password"], Some(CANARY)).code, 0);
    let pass = dir.path().join("pass.txt");
    std::fs::write(&pass, "a long passphrase for the fleet\n").unwrap();
    let file = dir.path().join("with-secrets.json");
    let (f, p) = (file.to_str().unwrap(), pass.to_str().unwrap());
    assert_eq!(postdesk(&admin, &["export", f, "--with-secrets", "--passphrase-file", p], None).code, 0);
    let target = dir.path().join("target");
    let first = postdesk(&target, &["import", f, "--passphrase-file", p, "--json"], None);
    assert_eq!(first.code, 0, "{first:?}");
    assert_eq!(json(&first)["secrets"], serde_json::json!(["global.password"]));
    assert_eq!(stored(&target, "global.password").as_deref(), Some(CANARY));
    let second = postdesk(&target, &["import", f, "--passphrase-file", p, "--json"], None);
    assert_eq!(json(&second)["changed"], false, "the same secret is no change: {second:?}");
    for r in [&first, &second] {
        assert!(!r.stdout.contains(CANARY) && !r.stderr.contains(CANARY), "{r:?}");
    }
    for d in [&admin, &target] {
        let _ = Keychain::for_data_dir(d).clear("global.password");
    }
}

#[test]
fn secret_set_json_says_whether_the_keychain_changed_and_never_the_value() {
    require_keychain();
    let d = tempfile::tempdir().unwrap();
    assert_eq!(postdesk(d.path(), &["config", "set", "global.host", "smtp.example.com"], None).code, 0);
    let set = |value: &str, extra: &[&str]| {
        let mut args = vec!["secret", "set", "global.password", "--json"];
        args.extend_from_slice(extra);
        let r = postdesk(d.path(), &args, Some(&format!("{value}\n")));
        assert_eq!(r.code, 0, "{r:?}");
        assert!(!r.stdout.contains(value) && !r.stderr.contains(value), "{r:?}");
        json(&r)
    };
    assert_eq!(set(CANARY, &["--dry-run"]), serde_json::json!({"changed": true}));
    assert_eq!(stored(d.path(), "global.password"), None, "a dry run stores nothing");
    assert_eq!(set(CANARY, &[]), serde_json::json!({"changed": true}));
    assert_eq!(set(CANARY, &[]), serde_json::json!({"changed": false}));
    assert_eq!(set(CANARY, &["--dry-run"]), serde_json::json!({"changed": false}));
    assert_eq!(set(ROTATED, &["--dry-run"]), serde_json::json!({"changed": true}));
    assert_eq!(stored(d.path(), "global.password").as_deref(), Some(CANARY));
    assert_eq!(set(ROTATED, &[]), serde_json::json!({"changed": true}));
    assert_eq!(stored(d.path(), "global.password").as_deref(), Some(ROTATED));
    // Refusals as without --json: exit 2, the key named, nothing stored.
    let r = postdesk(d.path(), &["secret", "set", "global.host", "--json"], Some("x\n"));
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("global.host") && r.stderr.contains("not a secret"), "{r:?}");
    let r = postdesk(d.path(), &["secret", "set", "global.password", "--json"], Some("\n"));
    assert_eq!(r.code, 2, "{r:?}");
    assert_eq!(stored(d.path(), "global.password").as_deref(), Some(ROTATED));
    let _ = Keychain::for_data_dir(d.path()).clear("global.password");
}

/// ansible-playbook from the project's venv, against localhost with the test's own HOME.
struct Ansible {
    home: tempfile::TempDir,
    /// The playbooks, which hold the secrets as a playbook would (apart from HOME, which is
    /// searched for traces of them).
    plays: tempfile::TempDir,
}

#[derive(Debug)]
struct Play {
    ok: u32,
    changed: u32,
    failed: u32,
    output: String,
}

impl Ansible {
    fn new() -> Ansible {
        let home = tempfile::tempdir().unwrap();
        // An empty configuration of its own: no ansible.cfg of the machine or user applies.
        std::fs::write(home.path().join("ansible.cfg"), "").unwrap();
        Ansible { home, plays: tempfile::tempdir().unwrap() }
    }

    fn playbook(&self, name: &str, args: &str, secrets: &[(&str, &str)]) -> PathBuf {
        let mut task = format!("      postdesk_config:\n{args}");
        if !secrets.is_empty() {
            task.push_str("        secrets:\n");
            for (k, v) in secrets {
                task.push_str(&format!("          {k}: \"{v}\"\n"));
            }
        }
        let text = format!("- hosts: localhost\n  gather_facts: false\n  tasks:\n    - name: Postdesk settings\n{task}");
        let path = self.plays.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn run(&self, playbook: &Path, flags: &[&str]) -> Play {
        let venv = root().join("target/test-venv/bin");
        let exe = venv.join("ansible-playbook");
        assert!(exe.exists(), "{} is missing: scripts/install-deps.sh test installs ansible-core into the venv", exe.display());
        let bin_dir = postdesk_bin().parent().unwrap().to_path_buf();
        let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
        let home = self.home.path();
        // Started by the venv's python: a venv copied to another path keeps working.
        let out = Command::new(venv.join("python"))
            .arg(&exe)
            .current_dir(home)
            .args(["-i", "localhost,", "-c", "local"])
            .arg("-e")
            .arg(format!("ansible_python_interpreter={}", venv.join("python").display()))
            .args(flags)
            .arg(playbook)
            .env("HOME", home)
            .env("PATH", path)
            .env("LC_ALL", "C.UTF-8")
            .env("ANSIBLE_LIBRARY", root().join("contrib/ansible"))
            .env("ANSIBLE_LOCAL_TEMP", home.join(".ansible/tmp"))
            .env("ANSIBLE_REMOTE_TEMP", home.join(".ansible/tmp"))
            .env("ANSIBLE_NOCOLOR", "1")
            .env("ANSIBLE_RETRY_FILES_ENABLED", "0")
            .env("ANSIBLE_CONFIG", home.join("ansible.cfg"))
            .env_remove("POSTDESK_DATA_DIR")
            .output()
            .expect("ansible-playbook runs");
        let output = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        let recap = output.lines().skip_while(|l| !l.starts_with("PLAY RECAP")).find(|l| l.starts_with("localhost")).unwrap_or_else(|| panic!("no recap:\n{output}")).to_string();
        let count = |what: &str| -> u32 {
            let at = recap.find(&format!("{what}=")).unwrap_or_else(|| panic!("{what} in {recap}"));
            recap[at + what.len() + 1..].split_whitespace().next().unwrap().parse().unwrap()
        };
        let play = Play { ok: count("ok"), changed: count("changed"), failed: count("failed"), output };
        assert_eq!(out.status.success(), play.failed == 0, "{play:?}");
        for secret in [CANARY, ROTATED] {
            assert!(!play.output.contains(secret), "a secret in ansible-playbook's output:\n{}", play.output);
        }
        play
    }
}

#[test]
fn ansible_module_first_run_changed_then_ok_check_and_diff_modes_no_secret_anywhere() {
    require_keychain();
    let ansible = Ansible::new();
    let dir = tempfile::tempdir().unwrap();
    let file = exported(dir.path(), "smtp.example.com");
    let target = dir.path().join("desk");
    let args = format!("        src: {}\n        data_dir: {}\n", file.display(), target.display());
    let play = ansible.playbook("site.yml", &args, &[("global.password", CANARY)]);

    // Check mode with diff: the keys that would change, and nothing changes.
    let check = ansible.run(&play, &["--check", "--diff", "-vvv"]);
    assert_eq!((check.changed, check.failed), (1, 0), "{check:?}");
    for line in ["+ global.host", "+ client.acme.host", "* global.password"] {
        assert!(check.output.contains(line), "{line} in {}", check.output);
    }
    assert!(!target.join("config.json").exists(), "check mode wrote settings");
    assert_eq!(stored(&target, "global.password"), None, "check mode stored a secret");

    // First run: changed, the settings as exported, the secret in the keychain.
    let first = ansible.run(&play, &["--diff", "-vvv"]);
    assert_eq!((first.changed, first.failed), (1, 0), "{first:?}");
    assert!(first.output.contains("+ support.address") && first.output.contains("* global.password"), "{}", first.output);
    let mut expected = show(&dir.path().join("admin-smtp.example.com"));
    expected["global"]["password"] = "<set>".into();
    assert_eq!(show(&target), expected);
    assert_eq!(stored(&target, "global.password").as_deref(), Some(CANARY));

    // Second run, and check mode now: nothing to do.
    let second = ansible.run(&play, &["--diff", "-vvv"]);
    assert_eq!((second.ok, second.changed, second.failed), (1, 0, 0), "{second:?}");
    let check = ansible.run(&play, &["--check", "--diff"]);
    assert_eq!((check.changed, check.failed), (0, 0), "{check:?}");

    // A rotated password: only the secret changes, shown by key.
    let rotated = ansible.playbook("rotate.yml", &args, &[("global.password", ROTATED)]);
    let r = ansible.run(&rotated, &["--diff", "-vvv"]);
    assert_eq!((r.changed, r.failed), (1, 0), "{r:?}");
    assert!(r.output.contains("* global.password") && !r.output.contains("+ global.host"), "{}", r.output);
    assert_eq!(stored(&target, "global.password").as_deref(), Some(ROTATED));
    assert_eq!(ansible.run(&rotated, &[]).changed, 0);

    // No secret in any file Ansible or Postdesk left behind.
    for d in [ansible.home.path(), dir.path()] {
        for secret in [CANARY, ROTATED] {
            assert!(files_containing(d, secret).is_empty(), "{secret} in {:?}", files_containing(d, secret));
        }
    }
    let _ = Keychain::for_data_dir(&target).clear("global.password");
}

#[test]
fn ansible_module_fails_clearly_and_changes_nothing() {
    require_keychain();
    let ansible = Ansible::new();
    let dir = tempfile::tempdir().unwrap();
    let file = exported(dir.path(), "smtp.example.com");
    let target = dir.path().join("desk");
    let args = |extra: &str| format!("        src: {}\n        data_dir: {}\n{extra}", file.display(), target.display());
    let failed = |play: &Play, needle: &str| {
        assert_eq!((play.failed, play.changed), (1, 0), "{play:?}");
        assert!(play.output.contains(needle), "{needle:?} in {}", play.output);
    };

    let missing = ansible.playbook("missing.yml", &format!("        src: {}/nope.json\n        data_dir: {}\n", dir.path().display(), target.display()), &[]);
    failed(&ansible.run(&missing, &[]), "src: ");
    let not_secret = ansible.playbook("not-secret.yml", &args(""), &[("global.host", CANARY)]);
    failed(&ansible.run(&not_secret, &["-vvv"]), "global.host: is not a secret");
    let bad_binary = ansible.playbook("bad-binary.yml", &args("        binary: /nonexistent/postdesk\n"), &[]);
    failed(&ansible.run(&bad_binary, &[]), "binary: /nonexistent/postdesk is not an executable file");
    let garbage = dir.path().join("garbage.json");
    std::fs::write(&garbage, "{\"format\": \"postdesk-config\", \"version\": 1, \"global\": {\"hots\": \"x\"}}").unwrap();
    let invalid = ansible.playbook("invalid.yml", &format!("        src: {}\n        data_dir: {}\n", garbage.display(), target.display()), &[]);
    failed(&ansible.run(&invalid, &[]), "global.hots: unknown key");
    assert!(!target.join("config.json").exists());

    // A file that sends the stored password to another host: refused (also in check mode)
    // until allow_redirect says so.
    let ok = ansible.playbook("ok.yml", &args(""), &[("global.password", CANARY)]);
    assert_eq!(ansible.run(&ok, &[]).changed, 1);
    let before = std::fs::read(target.join("config.json")).unwrap();
    let other = exported(dir.path(), "smtp.elsewhere.test");
    let moved = format!("        src: {}\n        data_dir: {}\n", other.display(), target.display());
    let redirect = ansible.playbook("redirect.yml", &moved, &[]);
    failed(&ansible.run(&redirect, &["--check"]), "allow_redirect");
    failed(&ansible.run(&redirect, &[]), "--allow-redirect");
    assert_eq!(std::fs::read(target.join("config.json")).unwrap(), before, "nothing changed");
    let allowed = ansible.playbook("allowed.yml", &format!("{moved}        allow_redirect: true\n"), &[]);
    let r = ansible.run(&allowed, &["--diff"]);
    assert_eq!((r.changed, r.failed), (1, 0), "{r:?}");
    assert!(r.output.contains("~ global.host"), "{}", r.output);
    assert_eq!(postdesk(&target, &["config", "get", "global.host"], None).stdout.trim(), "smtp.elsewhere.test");
    let _ = Keychain::for_data_dir(&target).clear("global.password");
}
