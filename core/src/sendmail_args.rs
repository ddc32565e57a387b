//! What `postdesk send` takes: sendmail's command line as real programs pass it, and the
//! recipients and envelope sender that follow from it and the message. Pure (the fuzz target
//! `argv` runs [`parse`] on arbitrary arguments).
//!
//! The command line is read as sendmail's getopt reads it: options may be grouped (`-ti`), a
//! value may follow its option in the same word or the next (`-FCronDaemon`, `-F Cron`,
//! `-oem`, `-o em`, `-f<>`), and `--` ends the options. Options may also come after
//! recipients. Accepted:
//!
//! | option | meaning |
//! |---|---|
//! | `-t` | recipients also from the To, Cc and Bcc fields (Bcc is removed) |
//! | `-f ADDR`, `-r ADDR` | envelope sender: an address, a bare user name (gets the local domain) or `<>` (null sender) |
//! | `-F NAME` | the From name when the message has no From field |
//! | `-N DSN` | `never`, or any of `success`, `failure`, `delay` (checked; not forwarded) |
//! | `-R full\|hdrs`, `-V ENVID` | DSN return and envelope ID (checked; not forwarded) |
//! | `-B 7BIT\|8BITMIME` | body type (checked; 8-bit bodies are sent as they are either way) |
//! | `-i`, `-oi` | a lone dot does not end the message (it never does here) |
//! | `-v` | print each step |
//! | `-bm` | deliver the message (the only mode there is) |
//! | `-o…`, `-O…`, `-m`, `-n` | other sendmail options: ignored, as sendmail does |
//! | `--client ID`, `--priority`, `--data-dir DIR`, `--help` | Postdesk's own |
//!
//! Anything else is a usage error naming it.

use crate::keys::Key;
use crate::model::Config;

/// The envelope sender asked for with `-f`/`-r`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sender {
    /// `<>`: the null sender (bounces, auto-replies).
    Null,
    /// An address, or a bare user name that gets the local domain.
    Address(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Body {
    SevenBit,
    EightBitMime,
}

/// A parsed `postdesk send` command line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SendArgs {
    /// `-t`: read recipients from the message's fields too.
    pub extract_recipients: bool,
    pub sender: Option<Sender>,
    /// `-F`: display name for a From field the message lacks.
    pub full_name: Option<String>,
    /// `-N`: `never`, or a comma list of `success`, `failure`, `delay` (lower case).
    pub notify: Option<String>,
    /// `-R`: `full` or `hdrs`.
    pub ret: Option<String>,
    /// `-V`: DSN envelope ID.
    pub envid: Option<String>,
    pub body: Option<Body>,
    pub verbose: bool,
    pub ignore_dots: bool,
    pub client: Option<String>,
    pub priority: bool,
    pub data_dir: Option<String>,
    pub help: bool,
    /// Recipient arguments as given (each may be an address list: `a@x, Bob <b@y>`).
    pub recipients: Vec<String>,
    /// Options accepted and ignored, as given (for `-v`).
    pub ignored: Vec<String>,
}

pub const USAGE: &str = "\
Usage: postdesk send [OPTIONS] [--] [RECIPIENT...] < message

Reads an RFC 5322 message on standard input and sends it through the resolved route
(sendmail-compatible; quiet on success).

  -t               recipients also from the To, Cc and Bcc fields (Bcc is removed)
  -f ADDR, -r ADDR envelope sender: an address, a user name (gets send.local_domain), or <>
  -F NAME          the From name when the message has no From field
  -N DSN           never, or success,failure,delay (accepted, not forwarded)
  -R full|hdrs     DSN return (accepted, not forwarded)
  -V ENVID         DSN envelope ID (accepted, not forwarded)
  -B 7BIT|8BITMIME body type
  -i, -oi          a line with a single dot does not end the message (it never does here)
  -v               print each step
  -bm              deliver the message (the default and only mode)
  -oX…, -OX…, -m, -n  other sendmail options: ignored
  --client ID      send as this client
  --priority       a priority mail (see limits.ignore_dne_for)
  --data-dir DIR   where the configuration lives
  --help           this text
";

/// A command line `postdesk send` does not take (exit 2): the option and value it names.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UsageError {
    #[error("{option}: needs a value")]
    NeedsValue { option: String },
    #[error("-: not an option (give recipients after --)")]
    Dash,
    #[error("{option}: takes no value")]
    TakesNoValue { option: String },
    #[error("{option}: unknown option (postdesk send --help lists them)")]
    UnknownLong { option: String },
    #[error("{option}: unknown option (postdesk send --help lists the sendmail options it takes)")]
    Unknown { option: String },
    #[error("{option}: must not contain control characters (line breaks)")]
    ControlCharacters { option: String },
    #[error("{option} {value}: give one address (like it@example.com), a user name, or <>")]
    NotOneSender { option: String, value: String },
    #[error("{option} {value}: the envelope sender was already given (-f/-r once)")]
    SenderTwice { option: String, value: String },
    /// A value the option does not take; `expected` says what it takes.
    #[error("{option} {value}: {expected}")]
    BadValue { option: &'static str, value: String, expected: &'static str },
    #[error("-b{value}: only -bm (deliver the message read on standard input) is supported")]
    Mode { value: String },
}

impl From<UsageError> for String {
    fn from(e: UsageError) -> String {
        e.to_string()
    }
}

/// No control characters (CR, LF, NUL…): values end up in headers and commands.
fn plain(option: &str, v: &str) -> Result<(), UsageError> {
    if v.chars().any(char::is_control) {
        return Err(UsageError::ControlCharacters { option: option.into() });
    }
    Ok(())
}

fn sender(option: &str, v: &str) -> Result<Sender, UsageError> {
    let v = v.trim();
    plain(option, v)?;
    let bare = v.strip_prefix('<').and_then(|s| s.strip_suffix('>')).unwrap_or(v).trim();
    if bare.is_empty() {
        return Ok(Sender::Null);
    }
    if bare.contains(char::is_whitespace) || bare.contains(['<', '>', ',']) {
        return Err(UsageError::NotOneSender { option: option.into(), value: v.into() });
    }
    Ok(Sender::Address(bare.to_string()))
}

fn notify(v: &str) -> Result<String, UsageError> {
    let lower = v.trim().to_ascii_lowercase();
    let words: Vec<&str> = lower.split(',').map(str::trim).collect();
    let ok = if words == ["never"] {
        true
    } else {
        !words.is_empty() && words.iter().all(|w| matches!(*w, "success" | "failure" | "delay"))
    };
    if !ok {
        return Err(UsageError::BadValue { option: "-N", value: v.into(), expected: "must be never, or one or more of success, failure, delay (comma-separated)" });
    }
    Ok(words.join(","))
}

/// Parses the arguments after `send`.
pub fn parse<S: AsRef<str>>(args: &[S]) -> Result<SendArgs, UsageError> {
    let mut a = SendArgs::default();
    let mut i = 0;
    let mut options_done = false;
    let next = |i: &mut usize, option: &str| -> Result<String, UsageError> {
        let v = args.get(*i).map(|s| s.as_ref().to_string()).ok_or_else(|| UsageError::NeedsValue { option: option.into() })?;
        *i += 1;
        Ok(v)
    };
    while i < args.len() {
        let arg = args[i].as_ref();
        i += 1;
        if options_done || !arg.starts_with('-') {
            a.recipients.push(arg.to_string());
            continue;
        }
        if arg == "-" {
            return Err(UsageError::Dash);
        }
        if arg == "--" {
            options_done = true;
            continue;
        }
        if let Some(long) = arg.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (long, None),
            };
            let option = format!("--{name}");
            let mut value = || match &inline {
                Some(v) => Ok(v.clone()),
                None => next(&mut i, &option),
            };
            match name {
                "client" => a.client = Some(value()?),
                "data-dir" => a.data_dir = Some(value()?),
                "priority" | "help" if inline.is_some() => return Err(UsageError::TakesNoValue { option }),
                "priority" => a.priority = true,
                "help" => a.help = true,
                _ => return Err(UsageError::UnknownLong { option }),
            }
            continue;
        }
        // A group of one-letter options; one that takes a value ends the group.
        let letters = &arg[1..];
        for (at, c) in letters.char_indices() {
            let option = format!("-{c}");
            match c {
                't' => a.extract_recipients = true,
                'i' => a.ignore_dots = true,
                'v' => a.verbose = true,
                'm' | 'n' => a.ignored.push(option),
                'f' | 'r' | 'F' | 'N' | 'B' | 'o' | 'O' | 'b' | 'R' | 'V' => {
                    let attached = &letters[at + c.len_utf8()..];
                    let v = if attached.is_empty() { next(&mut i, &option)? } else { attached.to_string() };
                    value_option(&mut a, c, &v)?;
                    break;
                }
                _ => return Err(UsageError::Unknown { option }),
            }
        }
    }
    Ok(a)
}

fn value_option(a: &mut SendArgs, c: char, v: &str) -> Result<(), UsageError> {
    let option = format!("-{c}");
    match c {
        'f' | 'r' => {
            if a.sender.is_some() {
                return Err(UsageError::SenderTwice { option, value: v.into() });
            }
            a.sender = Some(sender(&option, v)?);
        }
        'F' => {
            plain("-F", v)?;
            let name = v.trim();
            a.full_name = (!name.is_empty()).then(|| name.to_string());
        }
        'N' => a.notify = Some(notify(v)?),
        'R' => match v.trim().to_ascii_lowercase().as_str() {
            r @ ("full" | "hdrs") => a.ret = Some(r.to_string()),
            _ => return Err(UsageError::BadValue { option: "-R", value: v.into(), expected: "must be full or hdrs" }),
        },
        'V' => {
            let ok = !v.is_empty() && v.len() <= 100 && v.bytes().all(|b| (33..=126).contains(&b) && b != b'+' && b != b'=');
            if !ok {
                return Err(UsageError::BadValue { option: "-V", value: v.into(), expected: "the envelope ID must be 1 to 100 printable ASCII characters without '+' or '='" });
            }
            a.envid = Some(v.to_string());
        }
        'B' => {
            a.body = Some(match v.to_ascii_uppercase().as_str() {
                "7BIT" => Body::SevenBit,
                "8BITMIME" => Body::EightBitMime,
                _ => return Err(UsageError::BadValue { option: "-B", value: v.into(), expected: "must be 7BIT or 8BITMIME" }),
            })
        }
        'b' => {
            if v != "m" {
                return Err(UsageError::Mode { value: v.into() });
            }
        }
        'o' => {
            // -oi: as -i. -oe… (error mode), -od… (delivery mode) and the rest: ignored.
            if v == "i" {
                a.ignore_dots = true;
            } else {
                a.ignored.push(format!("-o{v}"));
            }
        }
        'O' => a.ignored.push(format!("-O {v}")),
        _ => unreachable!("only value options come here"),
    }
    Ok(())
}

/// The domain bare local names get: `send.local_domain`, else the domain of
/// `global.sender.address`.
pub fn local_domain(config: &Config) -> Option<String> {
    let get = |k: &str| Key::parse(k).expect("known key").effective(config);
    get("send.local_domain").or_else(|| get("global.sender.address").and_then(|a| a.rsplit_once('@').map(|(_, d)| d.to_string())))
}

/// What is sent: recipients and envelope sender with every bare name completed, and the
/// message without Bcc fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input {
    pub to: Vec<String>,
    /// `-f`/`-r` address, if given (`None` also for the null sender).
    pub from: Option<String>,
    pub null_sender: bool,
    pub message: Vec<u8>,
}

/// Why the recipients, the sender or the message of `postdesk send` cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    /// A recipient argument that does not read as addresses (exit 2).
    #[error("recipient {0}")]
    Recipient(crate::rfc5322::AddressError),
    /// A recipient argument with no address in it (exit 2).
    #[error("recipient {0:?}: no address")]
    NoAddress(String),
    /// A bare user name and no domain to give it: `send.local_domain` is needed (exit 2).
    #[error("send.local_domain: needed to give the user name {0} a domain (set it, or global.sender.address)")]
    NoLocalDomain(String),
    /// The message cannot be read safely (exit 1).
    #[error(transparent)]
    Message(#[from] crate::message::MessageError),
}

impl InputError {
    /// A problem of the command line or the settings (exit 2), not of the message (exit 1).
    pub fn is_usage(&self) -> bool {
        !matches!(self, InputError::Message(_))
    }
}

/// Reads the recipients and the sender from the arguments and, with `-t`, the message's
/// fields; removes Bcc and Resent-Bcc; gives bare names (`root`) `local_domain`, in the
/// envelope and in the message's address fields.
pub fn input(args: &SendArgs, message: &[u8], local_domain: Option<&str>) -> Result<Input, InputError> {
    use crate::message::{qualify_addresses, recipients_from_headers, same_address, without_bcc};
    let mut to: Vec<String> = Vec::new();
    let push = |to: &mut Vec<String>, addr: String| {
        if !to.iter().any(|t| same_address(t, &addr)) {
            to.push(addr);
        }
    };
    for arg in &args.recipients {
        let found = crate::rfc5322::addresses(arg.as_bytes()).map_err(InputError::Recipient)?;
        if found.is_empty() {
            return Err(InputError::NoAddress(arg.clone()));
        }
        for a in found {
            push(&mut to, a.addr);
        }
    }
    let message = crate::rfc5322::strip_mbox_from(message);
    let mut message = if args.extract_recipients {
        let (found, without) = recipients_from_headers(message)?;
        for a in found {
            push(&mut to, a);
        }
        without
    } else {
        without_bcc(message)?
    };
    use crate::rfc5322::has_domain;
    let complete = |name: &str| -> Result<String, InputError> {
        if has_domain(name) {
            return Ok(name.to_string());
        }
        match local_domain {
            Some(d) => Ok(format!("{name}@{d}")),
            None => Err(InputError::NoLocalDomain(name.into())),
        }
    };
    let mut qualified = Vec::new();
    for t in to {
        let t = complete(&t)?;
        if !qualified.iter().any(|q: &String| same_address(q, &t)) {
            qualified.push(t);
        }
    }
    let (from, null_sender) = match &args.sender {
        None => (None, false),
        Some(Sender::Null) => (None, true),
        Some(Sender::Address(a)) => (Some(complete(a)?), false),
    };
    if let Some(d) = local_domain {
        message = qualify_addresses(&message, d)?;
    }
    Ok(Input { to: qualified, from, null_sender, message })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> SendArgs {
        parse(args).unwrap_or_else(|e| panic!("{args:?}: {e}"))
    }

    #[test]
    fn debian_crons_argv() {
        let a = p(&["-FCronDaemon", "-i", "-B8BITMIME", "-oem", "root"]);
        assert_eq!(a.full_name.as_deref(), Some("CronDaemon"));
        assert!(a.ignore_dots && !a.extract_recipients);
        assert_eq!(a.body, Some(Body::EightBitMime));
        assert_eq!(a.ignored, ["-oem"]);
        assert_eq!(a.recipients, ["root"]);
    }

    #[test]
    fn cronie_mailx_mutt_git_and_php() {
        let a = p(&["-FCronDaemon", "-odi", "-oi", "-t", "-f", "root"]);
        assert!(a.extract_recipients && a.ignore_dots);
        assert_eq!(a.sender, Some(Sender::Address("root".into())));
        assert_eq!(a.ignored, ["-odi"]);
        let a = p(&["-oem", "-oi", "--", "-odd@x.test", "b@x.test"]);
        assert_eq!(a.recipients, ["-odd@x.test", "b@x.test"]);
        let a = p(&["-i", "a@x.test", "b@x.test"]);
        assert_eq!(a.recipients, ["a@x.test", "b@x.test"]);
        let a = p(&["-t", "-i"]);
        assert!(a.extract_recipients && a.recipients.is_empty());
        // Grouped letters, and values in the next word.
        let a = p(&["-ti", "-F", "Cron Daemon", "-N", "Success,FAILURE", "-B", "7bit", "-o", "i", "-bm", "-v"]);
        assert!(a.extract_recipients && a.ignore_dots && a.verbose);
        assert_eq!((a.full_name.as_deref(), a.notify.as_deref(), a.body), (Some("Cron Daemon"), Some("success,failure"), Some(Body::SevenBit)));
    }

    #[test]
    fn senders() {
        assert_eq!(p(&["-f", "<>"]).sender, Some(Sender::Null));
        assert_eq!(p(&["-f<>"]).sender, Some(Sender::Null));
        assert_eq!(p(&["-f", ""]).sender, Some(Sender::Null));
        assert_eq!(p(&["-r", "<it@x.test>"]).sender, Some(Sender::Address("it@x.test".into())));
        assert_eq!(p(&["-rit@x.test"]).sender, Some(Sender::Address("it@x.test".into())));
        assert_eq!(p(&["-fwww-data"]).sender, Some(Sender::Address("www-data".into())));
        assert!(parse(&["-f", "a@x.test", "-r", "b@x.test"]).unwrap_err().to_string().contains("already given"));
        assert!(parse(&["-f", "a b"]).unwrap_err().to_string().starts_with("-f a b: "));
    }

    #[test]
    fn postdesks_own_options_anywhere() {
        let a = p(&["--client", "acme", "-t", "a@x.test", "--priority", "--data-dir=/tmp/d", "--client=beta"]);
        assert_eq!((a.client.as_deref(), a.priority, a.data_dir.as_deref()), (Some("beta"), true, Some("/tmp/d")));
        assert_eq!(a.recipients, ["a@x.test"]);
        assert!(p(&["--help"]).help);
    }

    #[test]
    fn errors_name_the_option() {
        for (args, start) in [
            (&["-X", "/tmp/log"][..], "-X: unknown option"),
            (&["-C/etc/other.cf"], "-C: unknown option"),
            (&["-bs"], "-bs: only -bm"),
            (&["-bp"], "-bp: only -bm"),
            (&["-N", "sometimes"], "-N sometimes: "),
            (&["-N", "never,success"], "-N never,success: "),
            (&["-B", "BINARYMIME"], "-B BINARYMIME: "),
            (&["-R", "all"], "-R all: "),
            (&["-V", "a=b"], "-V a=b: "),
            (&["-f"], "-f: needs a value"),
            (&["-F", "x\nBcc: evil@x.test"], "-F: must not contain control characters"),
            (&["--prio"], "--prio: unknown option"),
            (&["--priority=yes"], "--priority: takes no value"),
            (&["--client"], "--client: needs a value"),
            (&["-h"], "-h: unknown option"),
            (&["-"], "-: not an option"),
        ] {
            let e = parse(args).unwrap_err().to_string();
            assert!(e.starts_with(start), "{args:?}: {e}");
        }
    }

    #[test]
    fn input_completes_bare_names_and_reads_fields() {
        let a = p(&["-t", "-f", "root", "root", "Ops <ops@x.test>, a@x.test"]);
        let msg = b"From: root (Cron Daemon)\nTo: root, b@x.test\nBcc: hid@x.test\nSubject: s\n\nbody\n";
        let got = input(&a, msg, Some("host.test")).unwrap();
        assert_eq!(got.to, ["root@host.test", "ops@x.test", "a@x.test", "b@x.test", "hid@x.test"]);
        assert_eq!(got.from.as_deref(), Some("root@host.test"));
        assert_eq!(got.message, b"From: root@host.test (Cron Daemon)\nTo: root@host.test, b@x.test\nSubject: s\n\nbody\n");
        let e = input(&a, msg, None).unwrap_err();
        assert!(e.is_usage() && e.to_string().starts_with("send.local_domain: "), "{e:?}");
        // Without -t, Bcc goes all the same; the fields name no extra recipient.
        let got = input(&p(&["-f<>", "c@x.test"]), msg, Some("host.test")).unwrap();
        assert_eq!((got.to, got.from, got.null_sender), (vec!["c@x.test".to_string()], None, true));
        assert!(!got.message.windows(4).any(|w| w == b"Bcc:"));
        let e = input(&a, b"To: a@x.test\r\nCc: b@x.test\n\r\nbody", Some("h.test")).unwrap_err();
        assert!(matches!(e, InputError::Message(_)));
        let got = input(&p(&["\"a@b\""]), b"", Some("h.test")).unwrap();
        assert_eq!(got.to, ["\"a@b\"@h.test"]);
        let e = input(&p(&["Bob Smith"]), b"", Some("h.test")).unwrap_err();
        assert!(e.is_usage() && e.to_string().contains("Bob Smith"), "{e:?}");
    }

    #[test]
    fn local_domain_falls_back_to_the_senders_domain() {
        use crate::fixtures::test_config as config;
        assert_eq!(local_domain(&config(&[])), None);
        assert_eq!(local_domain(&config(&[("global.sender.address", "it@corp.example")])).as_deref(), Some("corp.example"));
        let c = config(&[("global.sender.address", "it@corp.example"), ("send.local_domain", "host.corp.example")]);
        assert_eq!(local_domain(&c).as_deref(), Some("host.corp.example"));
    }
}
