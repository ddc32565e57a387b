//! Secrets go to the real OS keychain (Secret Service via gnome-keyring under `make test`),
//! survive the process that wrote them, and never land in a file.

use std::path::Path;
use std::process::Command;

use postdesk_core::secrets::Keychain;
use postdesk_tests::{files_containing, postdesk, postdesk_env, require_keychain};

/// What Secret Service itself holds for this entry, asked through `secret-tool` (a third process).
fn secret_tool_lookup(data_dir: &Path, key: &str) -> Option<String> {
    let user = format!("{}#{key}", data_dir.canonicalize().unwrap().display());
    let out = Command::new("secret-tool").args(["lookup", "service", "postdesk", "username", &user]).output().expect("secret-tool (libsecret-tools) runs");
    out.status.success().then(|| String::from_utf8(out.stdout).unwrap())
}

#[test]
fn secret_written_by_one_process_is_read_by_another() {
    require_keychain();
    let d = tempfile::tempdir().unwrap();
    let r = postdesk(d.path(), &["secret", "set", "global.password"], Some("c0rrect horse\n"));
    assert_eq!(r.code, 0, "{r:?}");
    assert!(!r.stderr.contains("c0rrect horse"));
    // Another postdesk process sees it…
    assert_eq!(postdesk(d.path(), &["config", "get", "global.password"], None).stdout.trim(), "<set>");
    // …so does Secret Service itself, without the trailing newline…
    assert_eq!(secret_tool_lookup(d.path(), "global.password").as_deref(), Some("c0rrect horse"));
    // …and this test process through the core.
    let stored = Keychain::for_data_dir(d.path()).get("global.password").unwrap().unwrap();
    assert_eq!(stored.expose(), "c0rrect horse");
    assert!(files_containing(d.path(), "c0rrect horse").is_empty(), "no file holds the secret");

    let r = postdesk(d.path(), &["secret", "clear", "global.password"], None);
    assert_eq!(r.code, 0);
    assert_eq!(postdesk(d.path(), &["config", "get", "global.password"], None).stdout.trim(), "<not set>");
    assert_eq!(secret_tool_lookup(d.path(), "global.password"), None);
}

#[test]
fn crlf_is_dropped_and_inner_spaces_kept() {
    require_keychain();
    let d = tempfile::tempdir().unwrap();
    assert_eq!(postdesk(d.path(), &["secret", "set", "global.m365.client_secret"], Some("  a~b c  \r\n")).code, 0);
    assert_eq!(secret_tool_lookup(d.path(), "global.m365.client_secret").as_deref(), Some("  a~b c  "));
    postdesk(d.path(), &["secret", "clear", "global.m365.client_secret"], None);
}

#[test]
fn two_data_dirs_never_share_a_secret() {
    require_keychain();
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    assert_eq!(postdesk(a.path(), &["secret", "set", "global.password"], Some("only-for-a")).code, 0);
    assert_eq!(postdesk(b.path(), &["config", "get", "global.password"], None).stdout.trim(), "<not set>");
    assert_eq!(postdesk(a.path(), &["config", "get", "global.password"], None).stdout.trim(), "<set>");
    postdesk(a.path(), &["secret", "clear", "global.password"], None);
}

#[test]
fn empty_secret_is_refused() {
    require_keychain();
    let d = tempfile::tempdir().unwrap();
    let r = postdesk(d.path(), &["secret", "set", "global.password"], Some("\n"));
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("global.password: is empty"), "{}", r.stderr);
}

#[test]
fn unavailable_keychain_exits_3_with_advice_and_no_file_fallback() {
    let d = tempfile::tempdir().unwrap();
    let no_bus = [("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/postdesk-test-bus")];
    let r = postdesk_env(d.path(), &["secret", "set", "global.password"], Some("fallback-must-not-happen"), &no_bus);
    assert_eq!(r.code, 3, "{r:?}");
    assert!(r.stderr.contains("keychain is not available"), "{}", r.stderr);
    assert!(r.stderr.contains("never stores secrets in files"), "{}", r.stderr);
    assert!(files_containing(d.path(), "fallback-must-not-happen").is_empty());
    let r = postdesk_env(d.path(), &["config", "get", "global.password"], None, &no_bus);
    assert_eq!(r.code, 3, "{r:?}");
}
