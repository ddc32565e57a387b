//! The Do-Not-Email list and the daily limit against real Postfix (tests/mailstack): a
//! refused mail reaches nobody, the `*@domain` form, the priority exemption, the limit, and
//! many `postdesk send` processes at once keeping the count and the deliveries exact.

use std::path::{Path, PathBuf};

use postdesk_tests::{configure, mailstack, postdesk, unique_local, wait_for_mail, Run};
use serde_json::Value;

fn sink() -> PathBuf {
    PathBuf::from(mailstack().get("MAIL_SINK").expect("MAIL_SINK").clone())
}

/// A data dir sending through the plain Postfix port (delivers `@example.test` to the sink).
fn server(extra: &[(&str, &str)]) -> tempfile::TempDir {
    let env = mailstack();
    let d = tempfile::tempdir().unwrap();
    let mut pairs = vec![
        ("global.enabled", "true"),
        ("global.host", "127.0.0.1"),
        ("global.port", env["MAIL_PLAIN_PORT"].as_str()),
        ("global.sender.address", "it@example.test"),
        ("global.timeout_secs", "10"),
    ];
    pairs.extend_from_slice(extra);
    configure(d.path(), &pairs);
    d
}

fn addr(prefix: &str) -> String {
    format!("{}@example.test", unique_local(prefix))
}

fn send(d: &Path, args: &[&str], subject: &str) -> Run {
    let mut all = vec!["send"];
    all.extend_from_slice(args);
    postdesk(d, &all, Some(&format!("From: it@example.test\nSubject: {subject}\n\nbody\n")))
}

/// Messages in the sink containing `needle`.
fn in_sink(needle: &str) -> usize {
    let dir = sink();
    ["new", "cur"]
        .iter()
        .flat_map(|sub| std::fs::read_dir(dir.join(sub)).into_iter().flatten().flatten())
        .filter(|e| std::fs::read_to_string(e.path()).is_ok_and(|t| t.contains(needle)))
        .count()
}

/// Proves a refused mail reached nobody: a later mail through the same Postfix (from another
/// installation, whose limits do not stop it) arrives, and by then nothing of the refused one
/// is in the sink.
fn assert_nothing_delivered(refused: &[&str]) {
    let marker = addr("marker");
    let r = send(server(&[]).path(), &[&marker], "marker");
    assert_eq!(r.code, 0, "{r:?}");
    wait_for_mail(&sink(), &format!("Delivered-To: {marker}"));
    for to in refused {
        assert_eq!(in_sink(&format!("Delivered-To: {to}")), 0, "{to} got the refused mail");
    }
}

#[test]
fn a_listed_recipient_stops_the_whole_mail() {
    let good = addr("good");
    let listed = addr("listed");
    let d = server(&[]);
    assert_eq!(postdesk(d.path(), &["dne", "add", &listed.to_uppercase()], None).code, 0);
    let r = send(d.path(), &[&good, &listed], "refused");
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("failed at limits: refused by the Do-Not-Email list"), "{}", r.stderr);
    assert!(r.stderr.contains(&listed) && r.stderr.contains("nothing was sent to any recipient"), "{}", r.stderr);
    assert!(r.stderr.contains("what to do: Remove the address from the Do-Not-Email list"), "{}", r.stderr);
    assert_nothing_delivered(&[&good, &listed]);
    // The refused mail did not count.
    assert_eq!(count(d.path()), 0);
}

#[test]
fn a_domain_entry_blocks_every_address_of_that_domain_only() {
    let d = server(&[]);
    let domain_user = addr("dom");
    // Postfix delivers any local part of example.test: list the whole domain.
    assert_eq!(postdesk(d.path(), &["dne", "add", "*@Example.TEST"], None).code, 0);
    let r = send(d.path(), &[&domain_user], "domain");
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains(&format!("{domain_user} (entry *@example.test) is on the list")), "{}", r.stderr);
    // The test mail says so too, as its own step.
    let t = postdesk(d.path(), &["test-mail", "--to", &domain_user, "--json"], None);
    let report: Value = serde_json::from_str(&t.stdout).unwrap();
    assert_eq!((t.code, report["failed_stage"].as_str()), (1, Some("limits")), "{report}");
    assert!(report["error"].as_str().unwrap().contains("Do-Not-Email list"));
    assert_eq!(report["steps"].as_array().unwrap().len(), 2, "config, limits; no connection: {report}");
    // A subdomain is not the domain.
    let r = send(d.path(), &["x@sub.example.test"], "subdomain");
    assert!(!r.stderr.contains("Do-Not-Email"), "{}", r.stderr);
    assert_eq!(postdesk(d.path(), &["dne", "remove", "*@example.test"], None).code, 0);
    assert_eq!(in_sink(&format!("Delivered-To: {domain_user}")), 0);
}

#[test]
fn priority_mails_pass_the_list_only_when_allowed() {
    let listed = addr("prio");
    let d = server(&[]);
    assert_eq!(postdesk(d.path(), &["dne", "add", &listed], None).code, 0);
    let r = send(d.path(), &[&listed, "--priority"], "priority-none");
    assert_eq!(r.code, 1, "ignore_dne_for=none: even priority mails are refused: {r:?}");
    assert_eq!(postdesk(d.path(), &["config", "set", "limits.ignore_dne_for", "priority"], None).code, 0);
    let r = send(d.path(), &[&listed], "not-priority");
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("only priority mails may go to listed addresses"), "{}", r.stderr);
    let r = send(d.path(), &[&listed, "--priority"], "priority-allowed");
    assert_eq!(r.code, 0, "{r:?}");
    let mail = wait_for_mail(&sink(), &format!("Delivered-To: {listed}"));
    assert!(mail.contains("Subject: priority-allowed"), "{mail}");
    // `all`: the list is ignored, and a test mail says the recipient is on it.
    assert_eq!(postdesk(d.path(), &["config", "set", "limits.ignore_dne_for", "all"], None).code, 0);
    let t = postdesk(d.path(), &["test-mail", "--to", &listed], None);
    assert_eq!(t.code, 0, "{t:?}");
    assert!(t.stdout.contains(&format!("on the Do-Not-Email list, sent anyway (limits.ignore_dne_for = all): {listed}")), "{}", t.stdout);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while in_sink(&format!("Delivered-To: {listed}")) < 2 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(in_sink(&format!("Delivered-To: {listed}")), 2, "the priority mail and the test mail; the refused ones never arrived");
}

fn count(d: &Path) -> usize {
    match std::fs::read_to_string(d.join("sent-log")) {
        Ok(t) => t.lines().filter(|l| !l.is_empty()).count(),
        Err(_) => 0,
    }
}

#[test]
fn the_daily_limit_refuses_the_mail_over_it_and_survives_restarts() {
    let d = server(&[("limits.max_per_day", "2")]);
    let (a, b, c) = (addr("lim-a"), addr("lim-b"), addr("lim-c"));
    for to in [&a, &b] {
        let r = send(d.path(), &[to], "within");
        assert_eq!(r.code, 0, "{r:?}");
    }
    // Each `postdesk` is a new process: the count is read from the data directory.
    let r = send(d.path(), &[&c], "over");
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("failed at limits: daily limit reached: 2 mails in the last 24 hours, limits.max_per_day is 2"), "{}", r.stderr);
    assert!(r.stderr.contains("raise limits.max_per_day"), "{}", r.stderr);
    let t = postdesk(d.path(), &["test-mail", "--to", &c], None);
    assert_eq!(t.code, 1, "test mails count too: {t:?}");
    wait_for_mail(&sink(), &format!("Delivered-To: {b}"));
    assert_eq!(count(d.path()), 2);
    // Raising the limit lets the next one through, and it is counted.
    assert_eq!(postdesk(d.path(), &["config", "set", "limits.max_per_day", "3"], None).code, 0);
    let t = postdesk(d.path(), &["test-mail", "--to", &c], None);
    assert_eq!(t.code, 0, "{t:?}");
    assert!(t.stdout.contains("mail 3 of 3 in the last 24 hours"), "{}", t.stdout);
    wait_for_mail(&sink(), &format!("Delivered-To: {c}"));
    assert_eq!(in_sink(&format!("Delivered-To: {c}")), 1, "only the allowed one");
}

#[test]
fn a_mail_that_fails_before_data_does_not_count() {
    let d = server(&[("limits.max_per_day", "1"), ("global.port", "1")]);
    let r = send(d.path(), &[&addr("refused-port")], "nothing listens");
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("failed at connect"), "{}", r.stderr);
    assert_eq!(count(d.path()), 0);
}

/// Runs `n` `postdesk send` processes at once, each to its own recipient.
fn parallel_sends(d: &Path, n: usize, tag: &str) -> Vec<(String, std::process::Output)> {
    let bin = postdesk_tests::postdesk_bin();
    let children: Vec<(String, std::process::Child)> = (0..n)
        .map(|i| {
            let to = addr(&format!("{tag}{i}"));
            let mut child = std::process::Command::new(&bin)
                .args(["--data-dir", d.to_str().unwrap(), "send", &to])
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            use std::io::Write;
            child.stdin.take().unwrap().write_all(format!("From: it@example.test\nSubject: {tag} {i}\n\nx\n").as_bytes()).unwrap();
            (to, child)
        })
        .collect();
    children.into_iter().map(|(to, c)| (to, c.wait_with_output().unwrap())).collect()
}

#[test]
fn parallel_sends_keep_the_count_and_the_deliveries_exact() {
    let tag = unique_local("par");
    let d = server(&[("limits.max_per_day", "12")]);
    let results = parallel_sends(d.path(), 20, &format!("{tag}-"));
    let (sent, refused): (Vec<_>, Vec<_>) = results.iter().partition(|(_, o)| o.status.code() == Some(0));
    assert_eq!(sent.len(), 12, "exactly the limit went out");
    assert_eq!(refused.len(), 8);
    for (_, o) in &refused {
        assert_eq!(o.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&o.stderr).contains("daily limit reached: 12 mails"), "{}", String::from_utf8_lossy(&o.stderr));
    }
    assert_eq!(count(d.path()), 12);
    for (to, _) in &sent {
        wait_for_mail(&sink(), &format!("Delivered-To: {to}"));
    }
    let refused_to: Vec<&str> = refused.iter().map(|(to, _)| to.as_str()).collect();
    assert_nothing_delivered(&refused_to);
    assert_eq!(in_sink(&format!("Subject: {tag}-")), 12, "12 delivered, no more");
}

#[test]
fn parallel_sends_without_a_limit_are_all_counted() {
    let tag = unique_local("free");
    let d = server(&[]);
    let results = parallel_sends(d.path(), 16, &format!("{tag}-"));
    for (to, o) in &results {
        assert_eq!(o.status.code(), Some(0), "{to}: {}", String::from_utf8_lossy(&o.stderr));
    }
    assert_eq!(count(d.path()), 16, "no update lost");
    for (to, _) in &results {
        wait_for_mail(&sink(), &format!("Delivered-To: {to}"));
    }
    assert_eq!(in_sink(&format!("Subject: {tag}-")), 16);
}
