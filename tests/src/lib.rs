//! Shared harness for Postdesk's integration tests: the built `postdesk` binary, run with a
//! throwaway data directory, against the real keychain (Secret Service under `make test`).

pub mod fault;
pub mod fake_entra;
pub mod squid;

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Workspace root (tests/..).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root").to_path_buf()
}

/// The `postdesk` binary built by `make test` (or `cargo build -p postdesk`).
pub fn postdesk_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("POSTDESK_BIN") {
        return PathBuf::from(p);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root().join("target"));
    let bin = target.join("debug").join("postdesk");
    assert!(bin.exists(), "{} is missing: run `cargo build -p postdesk` (make test does)", bin.display());
    bin
}

#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `postdesk --data-dir DIR ARGS…` with `stdin` fed in.
pub fn postdesk(data_dir: &Path, args: &[&str], stdin: Option<&str>) -> Run {
    postdesk_env(data_dir, args, stdin, &[])
}

/// Like [`postdesk`], with extra environment variables.
pub fn postdesk_env(data_dir: &Path, args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Run {
    let mut child = Command::new(postdesk_bin())
        .envs(env.iter().copied())
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("POSTDESK_DATA_DIR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("postdesk starts");
    {
        let mut input = child.stdin.take().expect("stdin");
        if let Some(text) = stdin {
            input.write_all(text.as_bytes()).expect("write stdin");
        }
    }
    let out = child.wait_with_output().expect("postdesk runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Fails loudly when no Secret Service answers: these tests use the real keychain, never a mock.
pub fn require_keychain() {
    if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none() {
        panic!("no D-Bus session: run the tests with `make test` (it starts dbus-run-session and gnome-keyring)");
    }
}

/// Every file under `dir` whose bytes contain `needle`.
pub fn files_containing(dir: &Path, needle: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if std::fs::read(&path).is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle.as_bytes())) {
                found.push(path);
            }
        }
    }
    found
}

/// The real mail peers started by `make test` (tests/mailstack/start.sh): its `env` file.
pub fn mailstack() -> HashMap<String, String> {
    let path = std::env::var_os("POSTDESK_MAILSTACK_ENV")
        .expect("POSTDESK_MAILSTACK_ENV is not set: run the mail tests with `make test`, which starts Postfix and Dovecot");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().trim_matches('"').trim_matches('\'').to_string()))
        .collect()
}

/// Writes settings straight through the core, as `config set` would.
pub fn configure(data_dir: &Path, pairs: &[(&str, &str)]) {
    let edits = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let store = postdesk_core::store::Store::new(data_dir);
    let (config, problems) = postdesk_core::app::apply_edits(&store.load().unwrap(), &edits);
    assert!(problems.is_empty(), "{problems:?}");
    store.save(&config, &store.lock().unwrap()).unwrap();
}

/// Waits (at most 5 s) for a message containing `needle` in the Maildir sink; returns it.
pub fn wait_for_mail(maildir: &Path, needle: &str) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        for sub in ["new", "cur"] {
            for entry in std::fs::read_dir(maildir.join(sub)).into_iter().flatten().flatten() {
                if let Ok(text) = std::fs::read_to_string(entry.path()) {
                    if text.contains(needle) {
                        return text;
                    }
                }
            }
        }
        assert!(std::time::Instant::now() < deadline, "no mail with {needle:?} in {}", maildir.display());
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// A fresh recipient address, so each test finds its own mail.
pub fn unique_local(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    format!("{prefix}-{}-{nanos:x}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}
