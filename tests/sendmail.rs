//! `postdesk send` as the sendmail of real programs: cron's exact argv, s-nail, mutt and
//! git send-email, and the messages sendmail callers write (LF or CRLF, 8-bit bodies, no
//! header at all). Each mail is checked where it lands: an aiosmtpd sink (tests/sink/) that
//! keeps the DATA bytes as received, so a leaked Bcc or a missing header would show (Postfix
//! would drop the one and add the other).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use postdesk_tests::{configure, postdesk_bin, root, unique_local};
use serde_json::Value;

struct Sink {
    dir: tempfile::TempDir,
    port: u16,
    /// Serves until this process ends (its stdin closes then).
    _child: Child,
}

fn sink() -> &'static Sink {
    static SINK: OnceLock<Sink> = OnceLock::new();
    SINK.get_or_init(|| {
        let python = root().join("target/test-venv/bin/python");
        assert!(python.exists(), "{} is missing: run `scripts/install-deps.sh test` (make test does)", python.display());
        let dir = tempfile::tempdir().unwrap();
        let port_file = dir.path().join("port");
        let child = Command::new(python)
            .arg(root().join("tests/sink/smtp_sink.py"))
            .arg(dir.path())
            .arg(&port_file)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the SMTP sink starts");
        let deadline = Instant::now() + Duration::from_secs(10);
        let port = loop {
            if let Ok(p) = std::fs::read_to_string(&port_file) {
                break p.trim().parse().expect("a port");
            }
            assert!(Instant::now() < deadline, "the SMTP sink did not start");
            std::thread::sleep(Duration::from_millis(20));
        };
        Sink { dir, port, _child: child }
    })
}

/// One message as the sink got it.
#[derive(Debug)]
struct Kept {
    mail_from: String,
    rcpt: Vec<String>,
    raw: Vec<u8>,
}

impl Kept {
    fn header(&self) -> String {
        let end = self.raw.windows(4).position(|w| w == b"\r\n\r\n").expect("an empty line after the header");
        String::from_utf8(self.raw[..end + 2].to_vec()).expect("an ASCII/UTF-8 header")
    }
    fn body(&self) -> &[u8] {
        let end = self.raw.windows(4).position(|w| w == b"\r\n\r\n").expect("an empty line after the header");
        &self.raw[end + 4..]
    }
    /// The value of the one header field `name` (unfolded).
    fn field(&self, name: &str) -> Option<String> {
        let header = self.header();
        let mut found: Vec<String> = Vec::new();
        let mut current: Option<String> = None;
        for line in header.split("\r\n") {
            if line.starts_with([' ', '\t']) {
                if let Some(c) = current.as_mut() {
                    c.push_str(line);
                }
                continue;
            }
            if let Some(c) = current.take() {
                found.push(c);
            }
            if let Some((n, v)) = line.split_once(':') {
                if n.eq_ignore_ascii_case(name) {
                    current = Some(v.trim().to_string());
                }
            }
        }
        found.extend(current);
        assert!(found.len() <= 1, "{name} more than once: {header}");
        found.pop()
    }
    /// No Bcc field, and none of the hidden addresses anywhere in what was sent.
    fn no_bcc(&self, hidden: &[&str]) {
        let header = self.header();
        assert!(!header.lines().any(|l| l.to_ascii_lowercase().starts_with("bcc:")), "Bcc leaked: {header}");
        for h in hidden {
            assert!(!self.raw.windows(h.len()).any(|w| w == h.as_bytes()), "{h} leaked into the message: {}", String::from_utf8_lossy(&self.raw));
        }
    }
}

/// The message whose recipients include `rcpt` (waits at most 5 s).
fn kept(rcpt: &str) -> Kept {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        for entry in std::fs::read_dir(sink().dir.path()).unwrap().flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "eml") {
                let meta: Value = serde_json::from_slice(&std::fs::read(path.with_extension("json")).unwrap()).unwrap();
                let rcpts: Vec<String> = meta["rcpt_tos"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
                if rcpts.iter().any(|r| r == rcpt) {
                    return Kept { mail_from: meta["mail_from"].as_str().unwrap().to_string(), rcpt: rcpts, raw: std::fs::read(&path).unwrap() };
                }
            }
        }
        assert!(Instant::now() < deadline, "no mail for {rcpt} in the sink");
        std::thread::sleep(Duration::from_millis(30));
    }
}

/// Whether any message went to `rcpt` (after a short wait: for mails that must not leave).
fn none_for(rcpt: &str) -> bool {
    std::thread::sleep(Duration::from_millis(300));
    !std::fs::read_dir(sink().dir.path()).unwrap().flatten().any(|e| {
        e.path().extension().is_some_and(|x| x == "json") && std::fs::read_to_string(e.path()).unwrap().contains(&format!("\"{rcpt}\""))
    })
}

/// A data dir whose global server is the sink.
fn data_dir(extra: &[(&str, &str)]) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let port = sink().port.to_string();
    let mut pairs = vec![
        ("global.enabled", "true"),
        ("global.host", "127.0.0.1"),
        ("global.port", port.as_str()),
        ("global.sender.address", "it@corp.test"),
        ("global.sender.name", "IT Desk"),
        ("global.timeout_secs", "5"),
        ("send.local_domain", "host.corp.test"),
    ];
    pairs.extend_from_slice(extra);
    configure(d.path(), &pairs);
    d
}

/// Runs `program ARGS` (postdesk, or a link to it) with the data dir in the environment.
fn run(program: &Path, data: &Path, args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(program)
        .args(args)
        .env("POSTDESK_DATA_DIR", data)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

fn send(data: &Path, args: &[&str], stdin: &[u8]) -> Output {
    let mut all = vec!["send"];
    all.extend_from_slice(args);
    run(&postdesk_bin(), data, &all, stdin)
}

fn ok(out: &Output) {
    assert!(out.status.success(), "exit {:?}: {}", out.status.code(), String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout.is_empty(), "sendmail is quiet on success: {}", String::from_utf8_lossy(&out.stdout));
}

/// `postdesk` installed as `sendmail` (a symlink), as cron and mailx find it.
fn sendmail_link() -> PathBuf {
    static LINK: OnceLock<tempfile::TempDir> = OnceLock::new();
    let dir = LINK.get_or_init(|| {
        let d = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(postdesk_bin(), d.path().join("sendmail")).unwrap();
        d
    });
    dir.path().join("sendmail")
}

/// SMTP's line ends: a bare LF goes out as CRLF.
fn crlf(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'\n' && (i == 0 || bytes[i - 1] != b'\r') {
            out.push(b'\r');
        }
        out.push(b);
    }
    out
}

fn addr(prefix: &str) -> String {
    format!("{}@dest.test", unique_local(prefix))
}

// --- the input side of issue 14 ------------------------------------------------------------

/// An LF message whose body quotes a `Bcc:` line and later has a CRLF empty line: the body
/// stays body (before: split at the CRLF one, an extra RCPT for the quoted address).
#[test]
fn an_lf_message_with_a_crlf_empty_line_in_its_body_goes_to_its_to_only() {
    let d = data_dir(&[]);
    let (to, quoted) = (addr("lf-to"), addr("lf-quoted"));
    let body = format!("Forwarded:\nBcc: {quoted}\r\n\r\nend\n");
    let msg = format!("From: it@corp.test\nTo: {to}\nSubject: lf split\n\n{body}");
    ok(&send(d.path(), &["-t", "-i"], msg.as_bytes()));
    let k = kept(&to);
    assert_eq!(k.rcpt, [to.as_str()], "the body line is no recipient");
    assert_eq!(k.field("Subject").as_deref(), Some("lf split"));
    assert_eq!(k.body(), crlf(body.as_bytes()), "the body as given");
    assert!(none_for(&quoted));
}

/// The same message from a client that conceals its sender: To and Subject stay (before: the
/// rewrite split at the CRLF line and dropped them), the 8-bit body stays byte for byte.
#[test]
fn a_concealed_sender_keeps_the_messages_fields_and_8bit_body() {
    let d = data_dir(&[
        ("client.acme.name", "Acme"),
        ("client.acme.sender.address", "alice@acme.test"),
        ("client.acme.sender.name", "Alice"),
        ("client.acme.sender.conceal", "true"),
    ]);
    let (to, quoted) = (addr("conceal-to"), addr("conceal-quoted"));
    let body = [b"caf\xe9 na\xefve \xff\nBcc: ".to_vec(), quoted.as_bytes().to_vec(), b"\r\n\r\nend\n".to_vec()].concat();
    let mut msg = format!("From: Alice <alice@acme.test>\nTo: {to}\nSubject: conceal split\nContent-Type: text/plain; charset=iso-8859-1\n\n").into_bytes();
    msg.extend_from_slice(&body);
    ok(&send(d.path(), &["--client", "acme", "-t"], &msg));
    let k = kept(&to);
    assert_eq!(k.rcpt, [to.as_str()]);
    assert_eq!(k.field("To").as_deref(), Some(to.as_str()));
    assert_eq!(k.field("Subject").as_deref(), Some("conceal split"));
    assert_eq!(k.field("From").as_deref(), Some("Alice <it@corp.test>"));
    assert_eq!(k.field("Reply-To").as_deref(), Some("Alice <alice@acme.test>"));
    assert_eq!(k.body(), crlf(&body));
    assert_eq!(k.mail_from, "it@corp.test");
}

/// A Latin-1 message through `-t`: every byte arrives (before: lossy UTF-8 made é U+FFFD).
#[test]
fn a_latin1_message_arrives_byte_for_byte() {
    let d = data_dir(&[]);
    let (to, hidden) = (addr("latin1"), addr("latin1-bcc"));
    let body = b"Gr\xfc\xdfe aus K\xf6ln \xa9\n\xff\xfe\x80\n".to_vec();
    let mut msg = format!("From: it@corp.test\nTo: {to}\nBcc: {hidden}\nSubject: =?ISO-8859-1?Q?K=F6ln?=\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: 8bit\n\n").into_bytes();
    msg.extend_from_slice(&body);
    ok(&send(d.path(), &["-t"], &msg));
    let k = kept(&to);
    assert_eq!(k.rcpt, [to.as_str(), hidden.as_str()]);
    k.no_bcc(&[&hidden]);
    assert_eq!(k.body(), crlf(&body));
}

/// The sendmail transport gets the message's bytes (LF line ends) and `-i -f FROM -- RCPT`.
#[test]
fn the_sendmail_transport_gets_the_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let program = dir.path().join("capture");
    std::fs::write(&program, format!("#!/bin/sh\nprintf '%s\\n' \"$@\" > {0}/args\ncat > {0}/message\n", dir.path().display())).unwrap();
    Command::new("chmod").args(["755", program.to_str().unwrap()]).status().unwrap();
    let d = data_dir(&[("global.email_type", "sendmail"), ("global.sendmail_path", program.to_str().unwrap())]);
    let msg = b"From: it@corp.test\r\nTo: a@dest.test\r\nDate: Thu, 01 Jan 1970 00:00:00 +0000\r\nMessage-ID: <1@corp.test>\r\nSubject: x\r\n\r\ncaf\xe9\r\n\xff\r\n".to_vec();
    ok(&send(d.path(), &["-t"], &msg));
    assert_eq!(std::fs::read(dir.path().join("message")).unwrap(), b"From: it@corp.test\nTo: a@dest.test\nDate: Thu, 01 Jan 1970 00:00:00 +0000\nMessage-ID: <1@corp.test>\nSubject: x\n\ncaf\xe9\n\xff\n");
    assert_eq!(std::fs::read_to_string(dir.path().join("args")).unwrap(), "-i\n-f\nit@corp.test\n--\na@dest.test\n");
    // The null sender reaches the program as <>.
    ok(&send(d.path(), &["-f", "<>", "b@dest.test"], b"Subject: bounce\n\nx\n"));
    assert_eq!(std::fs::read_to_string(dir.path().join("args")).unwrap(), "-i\n-f\n<>\n--\nb@dest.test\n");
}

#[test]
fn an_ambiguous_header_is_refused_and_nothing_is_sent() {
    let d = data_dir(&[]);
    let (to, hidden) = (addr("mixed"), addr("mixed-hidden"));
    let msg = format!("From: it@corp.test\r\nTo: {to}\nBcc: {hidden}\r\nSubject: mixed\r\n\r\nbody\r\n");
    let out = send(d.path(), &["-t"], msg.as_bytes());
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 2 of the header ends in LF") && err.contains("nothing was sent"), "{err}");
    assert!(none_for(&to) && none_for(&hidden));
}

/// To, Cc and Bcc in every RFC 5322 form: display names, quoted strings, comments, groups,
/// folded lines, encoded words; each recipient once.
#[test]
fn t_reads_every_address_form() {
    let d = data_dir(&[]);
    let a: Vec<String> = (0..7).map(|i| addr(&format!("form{i}"))).collect();
    let msg = format!(
        "From: it@corp.test\nTo: \"Doe, Jane\" <{}>, {} (Bob, the builder),\n\tundisclosed-recipients:;\nCc: team: =?UTF-8?B?SsO2cmc=?= <{}>,\n {}; =?ISO-8859-1?Q?Andr=E9?= <{}>\nBcc: \"quoted\\\"name\" <{}>, {}, {}\nSubject: forms\n\nx\n",
        a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[0]
    );
    ok(&send(d.path(), &["-t"], msg.as_bytes()));
    let k = kept(&a[0]);
    assert_eq!(k.rcpt, a);
    k.no_bcc(&[&a[5], &a[6]]);
}

/// cron (Debian) runs `sendmail -FCronDaemon -i -B8BITMIME -oem root`: the user name gets
/// send.local_domain in the envelope and the fields; Date and Message-ID are added.
#[test]
fn debian_crons_exact_argv() {
    let d = data_dir(&[]);
    let job = unique_local("cronjob");
    let output = "Backup of /srv: 42 files\nUmlaut: Gr\u{fc}\u{df}e\n".to_string();
    let msg = format!(
        "From: root (Cron Daemon)\nTo: root\nSubject: Cron <root@host> /usr/local/bin/{job}\nMIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: 8bit\nX-Cron-Env: <SHELL=/bin/sh>\nX-Cron-Env: <HOME=/root>\nX-Cron-Env: <PATH=/usr/bin:/bin>\nX-Cron-Env: <LOGNAME=root>\n\n{output}"
    );
    ok(&run(&sendmail_link(), d.path(), &["-FCronDaemon", "-i", "-B8BITMIME", "-oem", "root"], msg.as_bytes()));
    let k = kept_with_subject("root@host.corp.test", &job);
    assert_eq!(k.rcpt, ["root@host.corp.test"]);
    assert_eq!(k.mail_from, "it@corp.test");
    assert_eq!(k.field("From").as_deref(), Some("root@host.corp.test (Cron Daemon)"));
    assert_eq!(k.field("To").as_deref(), Some("root@host.corp.test"));
    assert!(k.field("Date").is_some_and(|v| v.ends_with("+0000")), "{}", k.header());
    assert!(k.field("Message-ID").is_some_and(|v| v.ends_with("@corp.test>")), "{}", k.header());
    assert_eq!(k.body(), crlf(output.as_bytes()));
}

/// Several tests mail root@…: the one with this subject.
fn kept_with_subject(rcpt: &str, needle: &str) -> Kept {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        for entry in std::fs::read_dir(sink().dir.path()).unwrap().flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "eml") {
                let raw = std::fs::read(&path).unwrap();
                if raw.windows(needle.len()).any(|w| w == needle.as_bytes()) {
                    let meta: Value = serde_json::from_slice(&std::fs::read(path.with_extension("json")).unwrap()).unwrap();
                    let rcpt_tos: Vec<String> = meta["rcpt_tos"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
                    assert!(rcpt_tos.iter().any(|r| r == rcpt), "{rcpt_tos:?}");
                    return Kept { mail_from: meta["mail_from"].as_str().unwrap().to_string(), rcpt: rcpt_tos, raw };
                }
            }
        }
        assert!(Instant::now() < deadline, "no mail with {needle} in the sink");
        std::thread::sleep(Duration::from_millis(30));
    }
}

/// cronie runs `sendmail -FCronDaemon -odi -oi -t -f root` with `To: root` in the message.
#[test]
fn cronies_argv_with_t_and_f() {
    let d = data_dir(&[]);
    let job = unique_local("cronie");
    let msg = format!("From: \"(Cron Daemon)\" <root>\nTo: root\nSubject: Cron <root@host> {job}\n\nok\n");
    ok(&run(&sendmail_link(), d.path(), &["-FCronDaemon", "-odi", "-oi", "-t", "-f", "root"], msg.as_bytes()));
    let k = kept_with_subject("root@host.corp.test", &job);
    assert_eq!(k.mail_from, "root@host.corp.test");
    assert_eq!(k.field("From").as_deref(), Some("\"(Cron Daemon)\" <root@host.corp.test>"));
}

/// `echo text | sendmail -F name user`: a message without any header gets From (named by
/// -F), Date and Message-ID, then an empty line, then the text.
#[test]
fn a_bare_body_gets_from_date_and_message_id() {
    let d = data_dir(&[]);
    let to = addr("bare");
    ok(&send(d.path(), &["-F", "Backup Job", &to], b"Disk /srv is 95% full\n"));
    let k = kept(&to);
    assert_eq!(k.field("From").as_deref(), Some("Backup Job <it@corp.test>"));
    assert!(k.field("Date").is_some() && k.field("Message-ID").is_some(), "{}", k.header());
    assert_eq!(k.body(), b"Disk /srv is 95% full\r\n");
    assert_eq!(k.field("To"), None, "sendmail adds no To");
}

#[test]
fn the_null_sender_and_option_forms() {
    let d = data_dir(&[]);
    let to = addr("null");
    ok(&send(d.path(), &["-f<>", "-N", "never", "-B", "7BIT", "-oQ/var/spool", "-bm", "--", &to], b"Subject: bounce\n\nx\n"));
    let k = kept(&to);
    assert_eq!(k.mail_from, "<>", "MAIL FROM:<>");
    assert_eq!(k.field("From").as_deref(), Some("IT Desk <it@corp.test>"));
    let out = send(d.path(), &["-X", "/tmp/log", &to], b"x");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("-X: unknown option"));
    let out = send(d.path(), &["-bs"], b"");
    assert_eq!(out.status.code(), Some(2));
    // A user name without a domain to give it: the setting is named.
    let plain = tempfile::tempdir().unwrap();
    configure(plain.path(), &[("global.enabled", "true"), ("global.host", "127.0.0.1")]);
    let out = send(plain.path(), &["root"], b"x\n");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("send.local_domain: "), "{out:?}");
}

// --- real programs --------------------------------------------------------------------------

/// s-nail (mailx) with its default mta: `sendmail`, here the link to postdesk. It runs
/// `sendmail -i -- TO CC BCC`.
#[test]
fn s_nail_sends_through_postdesk() {
    let d = data_dir(&[]);
    let (to, cc, bcc) = (addr("snail-to"), addr("snail-cc"), addr("snail-bcc"));
    let home = tempfile::tempdir().unwrap();
    let mut child = Command::new("s-nail")
        .args(["-:/", "-Sv15-compat", "-Sttycharset=utf-8", "-Sfrom=Alice Example <alice@corp.test>"])
        .arg(format!("-Smta={}", sendmail_link().display()))
        .args(["-s", "s-nail subject", "-c", &cc, "-b", &bcc, "-.", &to])
        .env("HOME", home.path())
        .env("POSTDESK_DATA_DIR", d.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("s-nail is installed (scripts/install-deps.sh test)");
    child.stdin.take().unwrap().write_all("Grüße from s-nail\n".as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let k = kept(&to);
    assert_eq!(k.rcpt, [to.as_str(), cc.as_str(), bcc.as_str()]);
    k.no_bcc(&[&bcc]);
    assert_eq!(k.field("From").as_deref(), Some("Alice Example <alice@corp.test>"));
    assert_eq!(k.field("Subject").as_deref(), Some("s-nail subject"));
    assert_eq!(k.field("Cc").as_deref(), Some(cc.as_str()));
    assert_eq!(k.body(), b"Gr=C3=BC=C3=9Fe from s-nail\r\n", "s-nail's quoted-printable, as it wrote it");
}

/// mutt with `set sendmail="postdesk send"`: it runs `postdesk send -- TO BCC` and leaves
/// Bcc out of the message.
#[test]
fn mutt_sends_through_postdesk_send() {
    let d = data_dir(&[]);
    let (to, bcc) = (addr("mutt-to"), addr("mutt-bcc"));
    let home = tempfile::tempdir().unwrap();
    let muttrc = home.path().join("muttrc");
    std::fs::write(
        &muttrc,
        format!(
            "set sendmail=\"{} send\"\nset from=\"Bob Example <bob@corp.test>\"\nset use_from=yes\nset record=\"\"\nset charset=utf-8\nset send_charset=utf-8\n",
            postdesk_bin().display()
        ),
    )
    .unwrap();
    let mut child = Command::new("mutt")
        .args(["-n", "-F", muttrc.to_str().unwrap(), "-s", "mutt subject", "-b", &bcc, "--", &to])
        .env("HOME", home.path())
        .env("POSTDESK_DATA_DIR", d.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("mutt is installed (scripts/install-deps.sh test)");
    child.stdin.take().unwrap().write_all("Grüße from mutt\n".as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let k = kept(&to);
    assert_eq!(k.rcpt, [to.as_str(), bcc.as_str()]);
    k.no_bcc(&[&bcc]);
    assert_eq!(k.field("From").as_deref(), Some("Bob Example <bob@corp.test>"));
    assert_eq!(k.field("Subject").as_deref(), Some("mutt subject"));
    assert!(k.body().starts_with("Grüße from mutt".as_bytes()) || k.body().starts_with(b"Gr=C3=BC"), "{}", String::from_utf8_lossy(k.body()));
}

/// git send-email with `--sendmail-cmd="postdesk send"`: it runs `postdesk send -i TO BCC`.
/// The patch (8-bit) arrives byte for byte.
#[test]
fn git_send_email_sends_a_patch_through_postdesk_send() {
    let d = data_dir(&[]);
    let (to, bcc) = (addr("git-to"), addr("git-bcc"));
    let home = tempfile::tempdir().unwrap();
    let repo = home.path().join("repo");
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .args(args)
            .current_dir(&repo)
            .env("HOME", home.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "Carol Example")
            .env("GIT_AUTHOR_EMAIL", "carol@corp.test")
            .env("GIT_COMMITTER_NAME", "Carol Example")
            .env("GIT_COMMITTER_EMAIL", "carol@corp.test")
            .env("POSTDESK_DATA_DIR", d.path())
            .output()
            .expect("git is installed");
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        out
    };
    std::fs::create_dir(&repo).unwrap();
    git(&["init", "-q"]);
    std::fs::write(repo.join("menu.txt"), "Café crème\n").unwrap();
    git(&["add", "menu.txt"]);
    git(&["commit", "-q", "-m", "Add the café menu"]);
    git(&["format-patch", "-q", "-1", "-o", "out"]);
    let patch = std::fs::read_dir(repo.join("out")).unwrap().flatten().next().unwrap().path();
    let cmd = format!("{} send", postdesk_bin().display());
    git(&[
        "send-email",
        "--sendmail-cmd",
        &cmd,
        "--from",
        "Carol Example <carol@corp.test>",
        "--to",
        &to,
        "--bcc",
        &bcc,
        "--confirm=never",
        "--suppress-cc=all",
        "--no-thread",
        "--quiet",
        patch.to_str().unwrap(),
    ]);
    let k = kept(&to);
    assert_eq!(k.rcpt, [to.as_str(), bcc.as_str()]);
    k.no_bcc(&[&bcc]);
    assert!(k.field("Subject").unwrap().starts_with("[PATCH] "), "{}", k.header());
    assert_eq!(k.field("From").as_deref(), Some("Carol Example <carol@corp.test>"));
    let text = std::fs::read(&patch).unwrap();
    let diff_at = text.windows(4).position(|w| w == b"---\n").expect("the patch's diffstat");
    assert!(k.body().ends_with(&crlf(&text[diff_at..])), "the patch as git wrote it:\n{}", String::from_utf8_lossy(k.body()));
}
