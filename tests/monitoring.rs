//! `check` and `test-mail` for monitoring, through the real binary: `--format nagios` (status
//! line, perfdata, exit 0/1/2/3) and `--format prometheus`, checked with the real `promtool
//! check metrics` (Debian's `prometheus`, installed by scripts/install-deps.sh test), the test
//! mails through the real Postfix of the mail stack. No secret in any output.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use postdesk_core::secrets::Keychain;
use postdesk_core::Secret;
use postdesk_tests::{configure, mailstack, postdesk, postdesk_env, require_keychain, unique_local, wait_for_mail, Run};

const CLIENT_SECRET: &str = "canary-Monitoring-Secret-9931";

fn date_in(days: i64) -> String {
    (time::OffsetDateTime::now_utc().date() + time::Duration::days(days)).to_string()
}

/// A data dir whose global server sends through Microsoft Graph with the app-only flow, its
/// client secret in the real keychain, expiring in `days` days.
fn m365(days: i64) -> tempfile::TempDir {
    require_keychain();
    let d = tempfile::tempdir().unwrap();
    let expires = date_in(days);
    configure(
        d.path(),
        &[
            ("global.enabled", "true"),
            ("global.auth", "m365-graph"),
            ("global.sender.address", "it@example.test"),
            ("global.m365.tenant", "contoso.onmicrosoft.com"),
            ("global.m365.client_id", "72f988bf-86f1-41af-91ab-2d7cd011db47"),
            ("global.m365.flow", "app"),
            ("global.m365.secret_expires", &expires),
        ],
    );
    Keychain::for_data_dir(d.path()).set("global.m365.client_secret", &Secret::new(CLIENT_SECRET)).unwrap();
    d
}

fn forget(d: &Path) {
    let _ = Keychain::for_data_dir(d).clear("global.m365.client_secret");
}

fn no_secret(runs: &[&Run]) {
    for r in runs {
        assert!(!r.stdout.contains(CLIENT_SECRET) && !r.stderr.contains(CLIENT_SECRET), "{r:?}");
    }
}

/// One perfdata item as the monitoring plugin guidelines define it:
/// `'label'=value[UOM];[warn];[crit];[min];[max]`, UOM one of s, us, ms, %, B, KB, MB, TB, c.
fn check_perfdata_item(item: &str) -> (String, f64, String) {
    let (label, rest) = item.split_once('=').unwrap_or_else(|| panic!("no '=' in {item:?}"));
    let label = label.trim_matches('\'');
    assert!(!label.is_empty() && !label.contains(['=', '\'', ' ', '|']), "label {label:?}");
    let fields: Vec<&str> = rest.split(';').collect();
    assert!(fields.len() <= 5, "{item:?}");
    let value = fields[0];
    let number_end = value.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-')).unwrap_or(value.len());
    let (number, unit) = value.split_at(number_end);
    let number: f64 = number.parse().unwrap_or_else(|_| panic!("value of {item:?}"));
    assert!(["", "s", "us", "ms", "%", "B", "KB", "MB", "TB", "c"].contains(&unit), "unit {unit:?} of {item:?}");
    // Thresholds are ranges: [@][start:][end], start may be ~.
    for range in fields.iter().skip(1).take(2).filter(|r| !r.is_empty()) {
        let r = range.trim_start_matches('@');
        let (start, end) = r.split_once(':').unwrap_or(("", r));
        assert!(start.is_empty() || start == "~" || start.parse::<f64>().is_ok(), "range {range:?} of {item:?}");
        assert!(end.is_empty() || end.parse::<f64>().is_ok(), "range {range:?} of {item:?}");
    }
    for bound in fields.iter().skip(3).filter(|b| !b.is_empty()) {
        assert!(bound.parse::<f64>().is_ok(), "min/max {bound:?} of {item:?}");
    }
    (label.to_string(), number, unit.to_string())
}

/// The plugin output: exactly one `POSTDESK <STATE> - text | perfdata` status line first; the
/// perfdata items, checked.
fn nagios(r: &Run, state: &str, code: i32) -> Vec<(String, f64, String)> {
    assert_eq!(r.code, code, "{r:?}");
    let first = r.stdout.lines().next().unwrap_or_default();
    assert!(first.starts_with(&format!("POSTDESK {state} - ")), "{r:?}");
    assert!(r.stdout.lines().skip(1).all(|l| !l.starts_with("POSTDESK ")), "one status line: {r:?}");
    let Some((_, perf)) = first.split_once(" | ") else { return Vec::new() };
    assert!(!perf.contains('|'), "{first}");
    perf.split(' ').map(check_perfdata_item).collect()
}

/// `promtool check metrics` on `text`: exit 0 and no lint complaint.
fn promtool(text: &str) {
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool is installed (scripts/install-deps.sh test installs Debian's prometheus)");
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && said.trim().is_empty(), "promtool check metrics: {said}\n---\n{text}");
}

/// The sample of `metric` whose labels are exactly `labels` (`{…}` text, empty for none).
fn sample(text: &str, metric: &str, labels: &str) -> f64 {
    let head = format!("{metric}{labels} ");
    let line = text.lines().find(|l| l.starts_with(&head)).unwrap_or_else(|| panic!("no {head:?} in\n{text}"));
    line[head.len()..].parse().unwrap()
}

#[test]
fn check_nagios_ok_warning_and_critical_by_the_secret_expiry_with_its_days_as_perfdata() {
    let ok = m365(120);
    let r = postdesk(ok.path(), &["check", "--format", "nagios"], None);
    let perf = nagios(&r, "OK", 0);
    let first = r.stdout.lines().next().unwrap();
    assert_eq!(first, format!("POSTDESK OK - configuration valid; client secret of global expires in 120 days ({}) | errors=0;;0;0 warnings=0;0;;0 global_secret_days=120;31:;0:", date_in(120)));
    assert_eq!(perf.iter().map(|p| p.0.as_str()).collect::<Vec<_>>(), ["errors", "warnings", "global_secret_days"]);

    let soon = m365(10);
    let r2 = postdesk(soon.path(), &["check", "--format", "nagios"], None);
    let perf = nagios(&r2, "WARNING", 1);
    assert!(perf.contains(&("global_secret_days".into(), 10.0, String::new())), "{perf:?}");
    assert!(r2.stdout.contains("global.m365.secret_expires: the client secret expires in 10 days"), "{r2:?}");

    // Expired: check only warns, but mail through it fails: CRITICAL.
    let expired = m365(-3);
    let r3 = postdesk(expired.path(), &["check", "--format", "nagios"], None);
    let perf = nagios(&r3, "CRITICAL", 2);
    assert!(perf.contains(&("global_secret_days".into(), -3.0, String::new())), "{perf:?}");
    assert!(r3.stdout.contains(&format!("client secret of global expired on {}", date_in(-3))), "{r3:?}");

    // A missing secret is an error of the configuration: CRITICAL, named.
    forget(ok.path());
    let r4 = postdesk(ok.path(), &["check", "--format", "nagios"], None);
    let perf = nagios(&r4, "CRITICAL", 2);
    assert!(r4.stdout.lines().next().unwrap().contains("1 error: global.m365.client_secret: required for the app-only flow"), "{r4:?}");
    assert!(perf.contains(&("errors".into(), 1.0, String::new())), "{perf:?}");
    no_secret(&[&r, &r2, &r3, &r4]);
    for d in [&soon, &expired] {
        forget(d.path());
    }
}

#[test]
fn check_nagios_unknown_when_the_settings_cannot_be_read_or_the_arguments_are_wrong() {
    require_keychain();
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("config.json"), "{ not json").unwrap();
    let r = postdesk(d.path(), &["check", "--format", "nagios"], None);
    nagios(&r, "UNKNOWN", 3);
    assert!(r.stdout.contains("cannot read the configuration"), "{r:?}");
    assert_eq!(r.stdout.lines().count(), 1, "{r:?}");
    // The damaged file was kept aside: the next check runs on the defaults and says so.
    let r = postdesk(d.path(), &["check", "--format", "nagios"], None);
    nagios(&r, "CRITICAL", 2);
    assert!(r.stdout.contains("damaged and kept as"), "{r:?}");

    let fine = tempfile::tempdir().unwrap();
    for args in [
        &["check", "--format", "nagios", "--bogus"][..],
        &["check", "--json", "--format=nagios"],
        &["test-mail", "--format", "nagios"],
        &["test-mail", "--format", "nagios", "--to", "a@example.test", "--warning", "-1"],
    ] {
        let r = postdesk(fine.path(), args, None);
        nagios(&r, "UNKNOWN", 3);
        assert!(r.stdout.starts_with("POSTDESK UNKNOWN - invalid arguments: "), "{args:?}: {r:?}");
        assert!(r.stderr.is_empty(), "{args:?}: {r:?}");
    }
    // Arguments clap accepts but that name nothing real: UNKNOWN too, nothing sent.
    for (args, why) in [
        (&["test-mail", "--format", "nagios", "--to", "not an address"][..], "--to not an address:"),
        (&["test-mail", "--format", "nagios", "--to", "a@example.test", "--client", "nosuch"], "--client nosuch: no such client"),
    ] {
        let r = postdesk(fine.path(), args, None);
        nagios(&r, "UNKNOWN", 3);
        assert!(r.stdout.contains(why), "{args:?}: {r:?}");
    }
    // Without --format nagios, a wrong argument is still clap's usage error (exit 2).
    assert_eq!(postdesk(fine.path(), &["check", "--bogus"], None).code, 2);

    // No keychain to ask: neither the check nor the test mail can tell, UNKNOWN.
    let m = m365(120);
    let no_bus = [("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/postdesk-test-bus")];
    let r = postdesk_env(m.path(), &["check", "--format", "nagios"], None, &no_bus);
    nagios(&r, "UNKNOWN", 3);
    assert!(r.stdout.contains("keychain"), "{r:?}");
    let r2 = postdesk_env(m.path(), &["test-mail", "--to", "a@example.test", "--format", "nagios"], None, &no_bus);
    nagios(&r2, "UNKNOWN", 3);
    assert!(r2.stdout.lines().next().unwrap().contains("keychain is not available"), "{r2:?}");
    no_secret(&[&r, &r2]);
    forget(m.path());
}

#[test]
fn check_prometheus_passes_promtool_with_expiry_timestamps_per_scope_and_hostile_ids_escaped() {
    let d = m365(45);
    configure(d.path(), &[("client.acme.name", "ACME"), ("client.acme.enabled", "true"), ("client.acme.host", "smtp.acme.test"), ("client.acme.m365.secret_expires", &date_in(5))]);
    let r = postdesk(d.path(), &["check", "--format", "prometheus"], None);
    assert_eq!(r.code, 0, "{r:?}");
    promtool(&r.stdout);
    let midnight = |days: i64| (time::OffsetDateTime::now_utc().date() + time::Duration::days(days)).midnight().assume_utc().unix_timestamp() as f64;
    assert_eq!(sample(&r.stdout, "postdesk_client_secret_expiry_timestamp_seconds", "{scope=\"global\"}"), midnight(45));
    assert_eq!(sample(&r.stdout, "postdesk_client_secret_expiry_timestamp_seconds", "{scope=\"client:acme\"}"), midnight(5));
    assert_eq!(sample(&r.stdout, "postdesk_config_valid", ""), 1.0);
    assert_eq!(sample(&r.stdout, "postdesk_config_readable", ""), 1.0);
    assert_eq!(sample(&r.stdout, "postdesk_config_problems", "{severity=\"warning\"}"), 1.0, "acme's expires within 30 days");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as f64;
    assert!((sample(&r.stdout, "postdesk_check_timestamp_seconds", "") - now).abs() < 60.0);

    // A hand-edited file with a hostile client ID (quote, backslash, line break, brace): the
    // configuration is invalid, the label value escaped, and promtool still reads it.
    let path = d.path().join("config.json");
    let mut doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let acme = doc["clients"].as_object_mut().unwrap().remove("acme").unwrap();
    let hostile = "x\"} 1\n# TYPE evil counter\nevil_total{a=\"\\";
    doc["clients"].as_object_mut().unwrap().insert(hostile.into(), acme);
    std::fs::write(&path, serde_json::to_string(&doc).unwrap()).unwrap();
    let r2 = postdesk(d.path(), &["check", "--format", "prometheus"], None);
    assert_eq!(r2.code, 1, "an invalid ID is an error: {r2:?}");
    promtool(&r2.stdout);
    assert!(!r2.stdout.lines().any(|l| l.starts_with("evil") || l.starts_with("# TYPE evil")), "{}", r2.stdout);
    assert_eq!(sample(&r2.stdout, "postdesk_config_valid", ""), 0.0);
    let escaped = "{scope=\"client:x\\\"} 1\\n# TYPE evil counter\\nevil_total{a=\\\"\\\\\"}";
    assert_eq!(sample(&r2.stdout, "postdesk_client_secret_expiry_timestamp_seconds", escaped), midnight(5), "{}", r2.stdout);
    // And in the Nagios output the ID can neither add a status line nor break the perfdata.
    let r3 = postdesk(d.path(), &["check", "--format", "nagios"], None);
    nagios(&r3, "CRITICAL", 2);
    no_secret(&[&r, &r2, &r3]);

    // Unreadable settings: metrics that say so, exit 2, the error on stderr.
    std::fs::write(&path, "{ not json").unwrap();
    let r4 = postdesk(d.path(), &["check", "--format", "prometheus"], None);
    assert_eq!(r4.code, 2, "{r4:?}");
    promtool(&r4.stdout);
    assert_eq!(sample(&r4.stdout, "postdesk_config_readable", ""), 0.0);
    assert_eq!(sample(&r4.stdout, "postdesk_config_valid", ""), 0.0);
    assert!(r4.stderr.contains("config.json"), "{r4:?}");
    forget(d.path());
}

/// A data dir sending through the mail stack's Postfix submission port (STARTTLS + AUTH).
fn submission(env: &std::collections::HashMap<String, String>, password: &str) -> tempfile::TempDir {
    require_keychain();
    let d = tempfile::tempdir().unwrap();
    configure(
        d.path(),
        &[
            ("global.enabled", "true"),
            ("global.host", "127.0.0.1"),
            ("global.port", &env["MAIL_SUBMISSION_PORT"]),
            ("global.security", "starttls"),
            ("global.ca_file", &env["MAIL_CA_FILE"]),
            ("global.auth", "password"),
            ("global.username", &env["MAIL_USER"]),
            ("global.sender.address", "it@example.test"),
            ("global.timeout_secs", "5"),
        ],
    );
    Keychain::for_data_dir(d.path()).set("global.password", &Secret::new(password)).unwrap();
    d
}

#[test]
fn test_mail_nagios_through_real_postfix_ok_warning_critical_by_time_and_failure() {
    let env = mailstack();
    let d = submission(&env, &env["MAIL_PASSWORD"]);
    let sink = Path::new(&env["MAIL_SINK"]).to_path_buf();
    let to = format!("{}@example.test", unique_local("nagios-ok"));
    let r = postdesk(d.path(), &["test-mail", "--to", &to, "--format", "nagios"], None);
    let perf = nagios(&r, "OK", 0);
    let first = r.stdout.lines().next().unwrap();
    assert!(first.starts_with(&format!("POSTDESK OK - test mail to {to} delivered via global 127.0.0.1:{} in ", env["MAIL_SUBMISSION_PORT"])), "{first}");
    let time = perf.iter().find(|p| p.0 == "time").unwrap();
    assert_eq!(time.2, "s");
    assert!(time.1 > 0.0 && time.1 < 15.0, "{time:?}");
    assert!(first.contains(";5;15;0 "), "default thresholds: {first}");
    for stage in ["dns", "connect", "banner", "ehlo", "tls", "auth", "data", "delivered"] {
        assert!(perf.iter().any(|p| p.0 == stage && p.2 == "s"), "{stage} in {perf:?}");
    }
    wait_for_mail(&sink, &to);

    // Delivered, but slower than the thresholds asked for.
    let to2 = format!("{}@example.test", unique_local("nagios-slow"));
    let r2 = postdesk(d.path(), &["test-mail", "--to", &to2, "--format", "nagios", "--warning", "0.0001", "--critical", "60"], None);
    nagios(&r2, "WARNING", 1);
    assert!(r2.stdout.contains(";0.0001;60;0"), "{r2:?}");
    let r3 = postdesk(d.path(), &["test-mail", "--to", &to2, "--format", "nagios", "--warning", "0.0001", "--critical", "0.0002"], None);
    nagios(&r3, "CRITICAL", 2);
    assert!(r3.stdout.lines().next().unwrap().contains(" delivered via "), "{r3:?}");

    // Refused login: CRITICAL, the stage and Postfix's reply on the status line, the hint below.
    let wrong = submission(&env, "canary-Wrong-Password-5521");
    let r4 = postdesk(wrong.path(), &["test-mail", "--to", &to, "--format", "nagios"], None);
    nagios(&r4, "CRITICAL", 2);
    assert!(r4.stdout.lines().next().unwrap().contains("failed at auth: 535"), "{r4:?}");
    assert!(r4.stdout.lines().any(|l| l.starts_with("what to do: ")), "{r4:?}");
    for run in [&r, &r2, &r3, &r4] {
        assert!(!run.stdout.contains(&env["MAIL_PASSWORD"]) && !run.stdout.contains("canary-Wrong-Password-5521"), "{run:?}");
    }
    for dir in [&d, &wrong] {
        let _ = Keychain::for_data_dir(dir.path()).clear("global.password");
    }
}

#[test]
fn test_mail_prometheus_through_real_postfix_passes_promtool() {
    let env = mailstack();
    let d = submission(&env, &env["MAIL_PASSWORD"]);
    configure(d.path(), &[("client.acme.name", "ACME")]);
    let to = format!("{}@example.test", unique_local("prom-ok"));
    let r = postdesk(d.path(), &["test-mail", "--to", &to, "--client", "acme", "--format", "prometheus"], None);
    assert_eq!(r.code, 0, "{r:?}");
    promtool(&r.stdout);
    // The client sends through the global server until its own is enabled: the scope says so.
    assert_eq!(sample(&r.stdout, "postdesk_test_mail_success", "{scope=\"global\"}"), 1.0, "{}", r.stdout);
    let took = sample(&r.stdout, "postdesk_test_mail_duration_seconds", "{scope=\"global\"}");
    assert!(took > 0.0 && took < 15.0, "{took}");
    assert!(sample(&r.stdout, "postdesk_test_mail_step_duration_seconds", "{scope=\"global\",stage=\"auth\"}") >= 0.0);
    assert!(!r.stdout.contains("postdesk_test_mail_failed_stage"), "{}", r.stdout);
    wait_for_mail(Path::new(&env["MAIL_SINK"]), &to);

    // Its own server, with a wrong password: success 0, the failed stage, exit 1 as --json.
    configure(d.path(), &[("client.acme.enabled", "true")]);
    Keychain::for_data_dir(d.path()).set("client.acme.password", &Secret::new("canary-Client-Wrong-77")).unwrap();
    let r2 = postdesk(d.path(), &["test-mail", "--to", &to, "--client", "acme", "--format", "prometheus"], None);
    assert_eq!(r2.code, 1, "{r2:?}");
    promtool(&r2.stdout);
    assert_eq!(sample(&r2.stdout, "postdesk_test_mail_success", "{scope=\"client:acme\"}"), 0.0, "{}", r2.stdout);
    assert_eq!(sample(&r2.stdout, "postdesk_test_mail_failed_stage", "{scope=\"client:acme\",stage=\"auth\"}"), 1.0);
    assert!(r2.stderr.contains("failed at auth"), "{r2:?}");
    for run in [&r, &r2] {
        assert!(!run.stdout.contains("canary-Client-Wrong-77") && !run.stderr.contains("canary-Client-Wrong-77") && !run.stdout.contains(&env["MAIL_PASSWORD"]), "{run:?}");
    }
    let k = Keychain::for_data_dir(d.path());
    let _ = k.clear("global.password");
    let _ = k.clear("client.acme.password");
}
