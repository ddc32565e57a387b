//! `check` and `test-mail` for the monitoring that already runs: `--format nagios` (the
//! monitoring plugin conventions: one status line `POSTDESK <STATE> - text | perfdata`, then
//! long output lines, exit 0/1/2/3 for OK/WARNING/CRITICAL/UNKNOWN; Nagios, Icinga and
//! Checkmk run it as it is) and `--format prometheus` (the text exposition format, for the node
//! exporter's textfile collector). Formatting only: the problems, expiry dates and the test
//! mail come from the core. No secret is ever part of a report, so none can be printed here.

use std::fmt::Write as _;
use std::time::{Duration, Instant, SystemTime};

use postdesk_core::{Error, FailureKind, Health, Postdesk, Problem, Report, Request, SecretError, Severity};

use crate::args::Format;
use crate::output::exit_code;

/// A monitoring plugin's state; the value is its exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum State {
    Ok = 0,
    Warning = 1,
    Critical = 2,
    Unknown = 3,
}

impl State {
    fn name(self) -> &'static str {
        match self {
            State::Ok => "OK",
            State::Warning => "WARNING",
            State::Critical => "CRITICAL",
            State::Unknown => "UNKNOWN",
        }
    }
}

/// A secret expiring within this many days is a WARNING (as `check` warns); expired, CRITICAL.
pub(crate) const SECRET_WARNING_DAYS: i64 = 30;

/// `test-mail --format nagios`: the delivery time that makes it a WARNING or CRITICAL.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Thresholds {
    pub warning: f64,
    pub critical: f64,
}

/// Text for the status line or a long-output line: no `|` (it starts the perfdata), no line
/// breaks or other control characters, at most `max` characters.
fn plain(text: &str, max: usize) -> String {
    let mut out: String = text.chars().map(|c| if c == '|' { '/' } else if c.is_control() { ' ' } else { c }).collect();
    if out.chars().count() > max {
        out = out.chars().take(max.saturating_sub(1)).collect::<String>() + "…";
    }
    out
}

/// A perfdata label: letters, digits and `_.:-` kept, anything else `_` (no quoting needed,
/// and a hostile client ID can neither close a quote nor add an `=`).
fn perf_label(text: &str) -> String {
    text.chars().map(|c| if c.is_ascii_alphanumeric() || "_.:-".contains(c) { c } else { '_' }).collect()
}

/// Seconds with millisecond precision, as perfdata and Prometheus samples print them.
fn secs(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64())
}

/// The whole plugin output: the status line, then long output lines.
fn nagios(state: State, text: &str, perfdata: &[String], long: &[String]) -> String {
    let mut out = format!("POSTDESK {} - {}", state.name(), plain(text, 400));
    if !perfdata.is_empty() {
        out.push_str(" | ");
        out.push_str(&perfdata.join(" "));
    }
    out.push('\n');
    for line in long {
        out.push_str(&plain(line, 400));
        out.push('\n');
    }
    out
}

/// UNKNOWN: the state could not be found out (settings unreadable, keychain unavailable, bad
/// arguments).
fn unknown(text: &str) -> (String, u8) {
    (nagios(State::Unknown, text, &[], &[]), State::Unknown as u8)
}

fn print(out: (String, u8)) -> u8 {
    print!("{}", out.0);
    out.1
}

fn why_unknown(e: &Error) -> String {
    match e {
        Error::Keychain(SecretError::Unavailable(_)) => format!("the OS keychain is unavailable: {}", first_line(e)),
        Error::Store(_) => format!("cannot read the configuration: {}", first_line(e)),
        _ => first_line(e),
    }
}

fn first_line(e: &Error) -> String {
    postdesk_core::shown(e.to_string().lines().next().unwrap_or_default())
}

fn plural(n: usize, one: &str) -> String {
    format!("{n} {one}{}", if n == 1 { "" } else { "s" })
}

// ---- check ----

/// `check --format nagios`.
pub(crate) fn check_nagios(health: Result<Health, Error>) -> u8 {
    print(match health {
        Ok(h) => check_nagios_text(&h),
        Err(e) => unknown(&why_unknown(&e)),
    })
}

fn check_nagios_text(h: &Health) -> (String, u8) {
    let blocking: Vec<&Problem> = h.problems.iter().filter(|p| p.is_blocking()).collect();
    let warnings: Vec<&Problem> = h.problems.iter().filter(|p| !p.is_blocking()).collect();
    let soonest = h.secrets.iter().min_by_key(|s| s.days_left);
    let secret_state = match soonest {
        Some(s) if s.days_left < 0 => State::Critical,
        Some(s) if s.days_left <= SECRET_WARNING_DAYS => State::Warning,
        _ => State::Ok,
    };
    let problem_state = if !blocking.is_empty() {
        State::Critical
    } else if !warnings.is_empty() {
        State::Warning
    } else {
        State::Ok
    };
    let state = problem_state.max(secret_state);
    let mut text = match (blocking.first(), warnings.first()) {
        (Some(first), _) => format!("{}: {}: {}", plural(blocking.len(), "error"), first.key, first.message),
        (None, Some(first)) => format!("configuration valid, {}: {}: {}", plural(warnings.len(), "warning"), first.key, first.message),
        (None, None) => "configuration valid".to_string(),
    };
    let listed = if blocking.is_empty() { warnings.len() } else { blocking.len() };
    if listed > 1 {
        let _ = write!(text, " (and {} more)", listed - 1);
    }
    if let Some(s) = soonest {
        let when = if s.days_left < 0 { format!("expired on {}", s.expires) } else { format!("expires in {} ({})", plural(s.days_left as usize, "day"), s.expires) };
        let _ = write!(text, "; client secret of {} {when}", s.scope);
    }
    let mut perfdata = vec![format!("errors={};;0;0", blocking.len()), format!("warnings={};0;;0", warnings.len())];
    // Days left: WARNING below 31 (within 30 days, as `check` warns), CRITICAL below 0.
    perfdata.extend(h.secrets.iter().map(|s| format!("{}_secret_days={};{}:;0:", perf_label(&s.scope), s.days_left, SECRET_WARNING_DAYS + 1)));
    let long: Vec<String> = h.problems.iter().map(|p| p.to_string()).collect();
    (nagios(state, &text, &perfdata, &long), state as u8)
}

/// A Prometheus label value: backslash, double quote and line feed escaped.
pub(crate) fn label_value(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// Builds one metric family after the other: `# HELP`, `# TYPE` and its samples.
struct Exposition(String);

impl Exposition {
    fn gauge(&mut self, name: &str, help: &str, samples: &[(Vec<(&str, &str)>, String)]) {
        if samples.is_empty() {
            return;
        }
        let _ = writeln!(self.0, "# HELP {name} {help}");
        let _ = writeln!(self.0, "# TYPE {name} gauge");
        for (labels, value) in samples {
            let labels: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{}\"", label_value(v))).collect();
            if labels.is_empty() {
                let _ = writeln!(self.0, "{name} {value}");
            } else {
                let _ = writeln!(self.0, "{name}{{{}}} {value}", labels.join(","));
            }
        }
    }
}

fn unix(t: SystemTime) -> String {
    t.duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0).to_string()
}

fn flag(b: bool) -> String {
    u8::from(b).to_string()
}

/// `check --format prometheus`: the metrics on stdout; exit as `check` does (0, 1 for errors;
/// 2 or 3 when the settings or the keychain cannot be read, after metrics saying so).
pub(crate) fn check_prometheus(health: Result<Health, Error>, now: SystemTime) -> u8 {
    let (text, code) = check_prometheus_text(&health, now);
    print!("{text}");
    if let Err(e) = &health {
        crate::output::print_error(e);
    }
    code
}

fn check_prometheus_text(health: &Result<Health, Error>, now: SystemTime) -> (String, u8) {
    let mut x = Exposition(String::new());
    x.gauge("postdesk_config_readable", "Whether the saved configuration and the keychain could be read (1) or not (0).", &[(vec![], flag(health.is_ok()))]);
    let code = match health {
        Ok(h) => {
            let valid = !h.problems.iter().any(Problem::is_blocking);
            x.gauge("postdesk_config_valid", "Whether postdesk check finds no errors in the saved configuration (1) or some (0).", &[(vec![], flag(valid))]);
            let count = |s: Severity| h.problems.iter().filter(|p| p.severity == s).count().to_string();
            x.gauge(
                "postdesk_config_problems",
                "Problems postdesk check finds, by severity (error: a wrong value; missing: a needed value is not set; warning).",
                &[(vec![("severity", "error")], count(Severity::Error)), (vec![("severity", "missing")], count(Severity::Missing)), (vec![("severity", "warning")], count(Severity::Warning))],
            );
            let expiry: Vec<(Vec<(&str, &str)>, String)> = h.secrets.iter().map(|s| (vec![("scope", s.scope.as_str())], s.timestamp.to_string())).collect();
            x.gauge("postdesk_client_secret_expiry_timestamp_seconds", "When the Microsoft 365 client secret of a scope expires (its m365.secret_expires, 00:00 UTC), as a Unix time.", &expiry);
            if valid {
                0
            } else {
                crate::output::EXIT_FAILED
            }
        }
        Err(e) => {
            x.gauge("postdesk_config_valid", "Whether postdesk check finds no errors in the saved configuration (1) or some (0).", &[(vec![], "0".into())]);
            exit_code(e)
        }
    };
    x.gauge("postdesk_check_timestamp_seconds", "When postdesk check last ran, as a Unix time.", &[(vec![], unix(now))]);
    (x.0, code)
}

// ---- test-mail ----

/// What a test mail found out, for both formats.
struct Outcome<'a> {
    /// `global`, `client:<ID>` or `route:<NAME>`.
    scope: String,
    report: &'a Report,
    elapsed: Duration,
}

/// `test-mail --format nagios|prometheus`: checks the arguments (UNKNOWN or exit 2 when
/// wrong), sends, prints; exit as the format says.
pub(crate) fn test_mail(app: &Postdesk, request: Request, format: Format, thresholds: Thresholds) -> u8 {
    let nagios = format == Format::Nagios;
    let to = request.to.join(", ");
    // The scope until the report names the one the route resolved to.
    let asked = request.client.as_ref().map_or_else(|| "global".to_string(), |id| format!("client:{id}"));
    let refuse = |text: String, code: u8| {
        if nagios {
            print(unknown(&text))
        } else {
            eprintln!("postdesk: {text}");
            print!("{}", test_mail_prometheus_text(None, &asked, SystemTime::now()));
            code
        }
    };
    let config = match app.load() {
        Ok(c) => c,
        Err(e) => return refuse(why_unknown(&e), exit_code(&e)),
    };
    for (what, addr) in request.to.iter().map(|a| ("--to", a)).chain(request.from.iter().map(|a| ("--from", a))) {
        if let Err(e) = postdesk_core::check_email(addr, true) {
            return refuse(format!("{what} {}: {e}", postdesk_core::shown(addr)), crate::output::EXIT_CONFIG);
        }
    }
    if let Some(id) = request.client.as_deref().filter(|id| !config.clients.contains_key(*id)) {
        return refuse(format!("--client {}: no such client", postdesk_core::shown(id)), crate::output::EXIT_CONFIG);
    }
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime");
    let started = Instant::now();
    let report = runtime.block_on(app.send(&config, request, &mut |_| {}, std::future::pending()));
    let outcome = Outcome { scope: report.server.as_ref().map_or(asked, |s| s.source.clone()), elapsed: started.elapsed(), report: &report };
    if nagios {
        return print(test_mail_nagios_text(&outcome, &to, thresholds));
    }
    print!("{}", test_mail_prometheus_text(Some(&outcome), &outcome.scope, SystemTime::now()));
    match (report.failed_stage, report.failure_kind) {
        (Some(stage), kind) => {
            eprintln!("postdesk: failed at {}: {}", stage.as_str(), report.error.as_deref().unwrap_or_default());
            crate::output::failed_exit_code(stage, kind)
        }
        _ => 0,
    }
}

fn step_perfdata(report: &Report) -> Vec<String> {
    // One value per stage (a stage seen twice is summed), in the order of the steps.
    let mut stages: Vec<(&str, u64)> = Vec::new();
    for step in &report.steps {
        match stages.iter_mut().find(|(s, _)| *s == step.stage.as_str()) {
            Some((_, ms)) => *ms += step.ms,
            None => stages.push((step.stage.as_str(), step.ms)),
        }
    }
    stages.into_iter().map(|(stage, ms)| format!("{stage}={}s;;;0", secs(Duration::from_millis(ms)))).collect()
}

fn test_mail_nagios_text(o: &Outcome, to: &str, t: Thresholds) -> (String, u8) {
    let r = o.report;
    let took = o.elapsed.as_secs_f64();
    let via = match &r.server {
        // Microsoft Graph has no host and port of its own.
        Some(s) if !s.host.is_empty() => format!("{} {}:{}", o.scope, s.host, s.port),
        _ => o.scope.clone(),
    };
    let mut perfdata = vec![format!("time={}s;{};{};0", secs(o.elapsed), t.warning, t.critical)];
    perfdata.extend(step_perfdata(r));
    let mut long = Vec::new();
    let (state, text) = match (r.failed_stage, &r.error) {
        (Some(stage), error) => {
            if let Some(hint) = &r.hint {
                long.push(format!("what to do: {hint}"));
            }
            let state = if r.failure_kind == Some(FailureKind::KeychainUnavailable) { State::Unknown } else { State::Critical };
            (state, format!("test mail to {to} via {via} failed at {}: {}", stage.as_str(), error.as_deref().unwrap_or("no detail")))
        }
        (None, _) => {
            let state = if took >= t.critical {
                State::Critical
            } else if took >= t.warning {
                State::Warning
            } else {
                State::Ok
            };
            (state, format!("test mail to {to} delivered via {via} in {}s", secs(o.elapsed)))
        }
    };
    long.extend(r.steps.iter().map(|s| format!("{} {} ({} ms){}", s.stage.as_str(), if s.ok { "ok" } else { "FAILED" }, s.ms, if s.detail.is_empty() { String::new() } else { format!(": {}", s.detail.lines().next().unwrap_or_default()) })));
    (nagios(state, &text, &perfdata, &long), state as u8)
}

/// The test mail's metrics; without an outcome (the mail could not be tried) it counts as failed.
fn test_mail_prometheus_text(o: Option<&Outcome>, scope: &str, now: SystemTime) -> String {
    let mut x = Exposition(String::new());
    let one = |value: String| vec![(vec![("scope", scope)], value)];
    x.gauge("postdesk_test_mail_success", "Whether the last test mail through this scope was delivered (1) or not (0).", &one(flag(o.is_some_and(|o| o.report.ok))));
    if let Some(o) = o {
        x.gauge("postdesk_test_mail_duration_seconds", "How long the last test mail through this scope took, start to the server's answer.", &one(secs(o.elapsed)));
        let steps: Vec<(Vec<(&str, &str)>, String)> =
            o.report.steps.iter().map(|s| (vec![("scope", scope), ("stage", s.stage.as_str())], secs(Duration::from_millis(s.ms)))).collect();
        // A stage seen twice keeps its first sample (a series must not repeat).
        let mut seen = std::collections::BTreeSet::new();
        let steps: Vec<_> = steps.into_iter().filter(|(labels, _)| seen.insert(labels[1].1)).collect();
        x.gauge("postdesk_test_mail_step_duration_seconds", "How long each step of the last test mail took.", &steps);
        if let Some(stage) = o.report.failed_stage {
            x.gauge("postdesk_test_mail_failed_stage", "The stage at which the last test mail failed (1); absent when it was delivered.", &[(vec![("scope", scope), ("stage", stage.as_str())], "1".into())]);
        }
    }
    x.gauge("postdesk_test_mail_timestamp_seconds", "When the last test mail through this scope ran, as a Unix time.", &one(unix(now)));
    x.0
}

// ---- arguments ----

/// A command line clap refused, run with `--format nagios`: one UNKNOWN line and exit 3, as a
/// plugin must; `None` for any other command line (clap reports it as usual).
pub fn nagios_usage_error(error: &clap::Error, args: &[std::ffi::OsString]) -> Option<u8> {
    use clap::error::ErrorKind;
    if matches!(error.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand) {
        return None;
    }
    let words: Vec<&str> = args.iter().filter_map(|a| a.to_str()).collect();
    let nagios = words.windows(2).any(|w| w[0] == "--format" && w[1] == "nagios") || words.contains(&"--format=nagios");
    if !nagios {
        return None;
    }
    let text = error.to_string();
    let line = text.lines().map(|l| l.trim_start_matches("error: ").trim()).find(|l| !l.is_empty()).unwrap_or("invalid arguments");
    Some(print(unknown(&format!("invalid arguments: {line}"))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use postdesk_core::{SecretExpiry, ServerSummary, Stage, Step};

    fn problem(key: &str, severity: Severity, message: &str) -> Problem {
        Problem { key: key.into(), severity, message: message.into() }
    }

    fn expiry(scope: &str, days_left: i64) -> SecretExpiry {
        SecretExpiry { scope: scope.into(), key: "global.m365.secret_expires".into(), expires: "2027-01-01".into(), days_left, timestamp: 1_798_761_600 }
    }

    #[test]
    fn check_states_follow_problems_and_secret_days() {
        let ok = Health { problems: vec![], secrets: vec![expiry("global", 120)] };
        let (text, code) = check_nagios_text(&ok);
        assert_eq!(code, 0);
        assert_eq!(text, "POSTDESK OK - configuration valid; client secret of global expires in 120 days (2027-01-01) | errors=0;;0;0 warnings=0;0;;0 global_secret_days=120;31:;0:\n");
        let warn = Health { problems: vec![problem("global.port", Severity::Warning, "port 25 is often blocked")], secrets: vec![] };
        let (text, code) = check_nagios_text(&warn);
        assert_eq!(code, 1);
        assert!(text.starts_with("POSTDESK WARNING - configuration valid, 1 warning: global.port: port 25 is often blocked | errors=0;;0;0 warnings=1;0;;0\n"), "{text}");
        // A secret within 30 days is a WARNING without any problem; an expired one CRITICAL.
        assert_eq!(check_nagios_text(&Health { problems: vec![], secrets: vec![expiry("client:acme", 30)] }).1, 1);
        assert_eq!(check_nagios_text(&Health { problems: vec![], secrets: vec![expiry("client:acme", 31)] }).1, 0);
        let (text, code) = check_nagios_text(&Health { problems: vec![], secrets: vec![expiry("global", 90), expiry("client:acme", -2)] });
        assert_eq!(code, 2);
        assert!(text.contains("client secret of client:acme expired on 2027-01-01") && text.contains("client:acme_secret_days=-2;31:;0:"), "{text}");
        let crit = Health { problems: vec![problem("global.host", Severity::Missing, "required"), problem("global.port", Severity::Error, "bad"), problem("global.tls_verify", Severity::Warning, "off")], secrets: vec![] };
        let (text, code) = check_nagios_text(&crit);
        assert_eq!(code, 2);
        let mut lines = text.lines();
        assert_eq!(lines.next().unwrap(), "POSTDESK CRITICAL - 2 errors: global.host: required (and 1 more) | errors=2;;0;0 warnings=1;0;;0");
        assert_eq!(lines.collect::<Vec<_>>(), ["global.host: required", "global.port: bad", "global.tls_verify: warning: off"]);
    }

    #[test]
    fn hostile_text_cannot_break_the_status_line_or_perfdata() {
        let h = Health { problems: vec![problem("client.x|y", Severity::Error, "a | b\nPOSTDESK OK - fake")], secrets: vec![expiry("client:a'b= c|d\n", 5)] };
        let (text, _) = check_nagios_text(&h);
        let first = text.lines().next().unwrap();
        assert_eq!(first.matches('|').count(), 1, "{first}");
        assert!(first.contains("client:a_b__c_d__secret_days=5;31:;0:"), "{first}");
        assert!(text.lines().all(|l| !l.starts_with("POSTDESK OK")), "{text}");
    }

    #[test]
    fn prometheus_label_values_are_escaped() {
        assert_eq!(label_value(r#"a"b\c"#), r#"a\"b\\c"#);
        assert_eq!(label_value("x\ny"), "x\\ny");
        let h = Health { problems: vec![], secrets: vec![expiry("client:\"}\n evil 1", 3)] };
        let (text, code) = check_prometheus_text(&Ok(h), SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000));
        assert_eq!(code, 0);
        assert!(text.contains("postdesk_client_secret_expiry_timestamp_seconds{scope=\"client:\\\"}\\n evil 1\"} 1798761600\n"), "{text}");
        assert!(text.contains("postdesk_check_timestamp_seconds 1800000000\n"), "{text}");
        assert!(!text.lines().any(|l| l.starts_with(" evil")), "{text}");
    }

    #[test]
    fn test_mail_states_by_outcome_and_time() {
        let step = |stage, ok, ms| Step { stage, ok, ms, detail: String::new() };
        let server = ServerSummary { host: "127.0.0.1".into(), port: 2525, security: "starttls".into(), auth: "password".into(), source: "global".into() };
        let delivered = Report { ok: true, server: Some(server.clone()), steps: vec![step(Stage::Dns, true, 2), step(Stage::Connect, true, 3), step(Stage::Delivered, true, 0)], failed_stage: None, failure_kind: None, error: None, hint: None, transcript: vec![] };
        let t = Thresholds { warning: 1.0, critical: 2.5 };
        let o = |elapsed_ms, report| Outcome { scope: "global".into(), report, elapsed: Duration::from_millis(elapsed_ms) };
        let (text, code) = test_mail_nagios_text(&o(400, &delivered), "a@example.test", t);
        assert_eq!(code, 0);
        assert!(text.starts_with("POSTDESK OK - test mail to a@example.test delivered via global 127.0.0.1:2525 in 0.400s | time=0.400s;1;2.5;0 dns=0.002s;;;0 connect=0.003s;;;0 delivered=0.000s;;;0\n"), "{text}");
        assert_eq!(test_mail_nagios_text(&o(1000, &delivered), "a@example.test", t).1, 1);
        assert_eq!(test_mail_nagios_text(&o(2600, &delivered), "a@example.test", t).1, 2);
        let failed = Report {
            ok: false,
            steps: vec![step(Stage::Dns, true, 1), step(Stage::Auth, false, 40)],
            failed_stage: Some(Stage::Auth),
            failure_kind: Some(FailureKind::Auth),
            error: Some("535 5.7.8 Error: authentication failed".into()),
            hint: Some("Wrong user/password".into()),
            ..delivered.clone()
        };
        let (text, code) = test_mail_nagios_text(&o(50, &failed), "a@example.test", t);
        assert_eq!(code, 2);
        assert!(text.starts_with("POSTDESK CRITICAL - test mail to a@example.test via global 127.0.0.1:2525 failed at auth: 535 5.7.8 Error: authentication failed | time=0.050s;1;2.5;0 dns=0.001s;;;0 auth=0.040s;;;0\nwhat to do: Wrong user/password\n"), "{text}");
        let keychain = Report { failure_kind: Some(FailureKind::KeychainUnavailable), failed_stage: Some(Stage::Config), ..failed.clone() };
        assert_eq!(test_mail_nagios_text(&o(5, &keychain), "a@example.test", t).1, 3);
        let metrics = test_mail_prometheus_text(Some(&o(50, &failed)), "global", SystemTime::UNIX_EPOCH);
        assert!(metrics.contains("postdesk_test_mail_success{scope=\"global\"} 0\n") && metrics.contains("postdesk_test_mail_failed_stage{scope=\"global\",stage=\"auth\"} 1\n"), "{metrics}");
    }

    #[test]
    fn usage_errors_with_nagios_are_unknown_others_are_clap_s() {
        use clap::Parser;
        let args = |a: &[&str]| a.iter().map(std::ffi::OsString::from).collect::<Vec<_>>();
        let bad = args(&["postdesk", "check", "--format", "nagios", "--bogus"]);
        let e = crate::Cli::try_parse_from(&bad).unwrap_err();
        assert_eq!(nagios_usage_error(&e, &bad), Some(3));
        let plain = args(&["postdesk", "check", "--bogus"]);
        assert_eq!(nagios_usage_error(&crate::Cli::try_parse_from(&plain).unwrap_err(), &plain), None);
        let help = args(&["postdesk", "check", "--format=nagios", "--help"]);
        assert_eq!(nagios_usage_error(&crate::Cli::try_parse_from(&help).unwrap_err(), &help), None);
    }
}
