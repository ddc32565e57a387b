//! The step-by-step result of sending a mail: what was tried, how long it took, what the
//! server said, and (on failure) the stage and the hint for an admin. Pure types and text.

use serde::Serialize;
use ts_rs::TS;

/// Stages in the order they can happen (see ERRORS.md).
#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Stage {
    Config,
    /// Receive-before-send: logging in to the receiver mailbox before sending.
    Receiver,
    /// The Do-Not-Email list and the daily limit, checked before anything is sent.
    Limits,
    Dns,
    Connect,
    Banner,
    Ehlo,
    Tls,
    /// An HTTP proxy in front of Entra ID and Graph: connecting to it and its CONNECT answer.
    Proxy,
    Token,
    Auth,
    MailFrom,
    RcptTo,
    Data,
    Graph,
    Delivered,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Config => "config",
            Stage::Receiver => "receiver",
            Stage::Limits => "limits",
            Stage::Dns => "dns",
            Stage::Connect => "connect",
            Stage::Banner => "banner",
            Stage::Ehlo => "ehlo",
            Stage::Tls => "tls",
            Stage::Proxy => "proxy",
            Stage::Token => "token",
            Stage::Auth => "auth",
            Stage::MailFrom => "mail_from",
            Stage::RcptTo => "rcpt_to",
            Stage::Data => "data",
            Stage::Graph => "graph",
            Stage::Delivered => "delivered",
        }
    }
}

#[derive(Serialize, Clone, Debug, PartialEq, Eq, TS)]
#[ts(export)]
pub struct Step {
    pub stage: Stage,
    pub ok: bool,
    pub ms: u64,
    /// What was seen: addresses, capabilities, certificate, the server's reply.
    pub detail: String,
}

/// Which server a mail goes through, and why it was chosen.
#[derive(Serialize, serde::Deserialize, Clone, Debug, PartialEq, Eq, TS)]
#[ts(export)]
pub struct ServerSummary {
    pub host: String,
    pub port: u16,
    pub security: String,
    pub auth: String,
    /// `global`, `client:<ID>` or `route:<NAME>`.
    pub source: String,
}

/// Live progress of a running test, for the window and the CLI's streamed output.
#[derive(Serialize, Clone, Debug, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[ts(export)]
pub enum Progress {
    Started { stage: Stage },
    Finished { step: Step },
}

/// What kind of failure ended an attempt. Decisions (cancelling, the banner's "closed right
/// after connect", the CLI's exit code, the window's "cancelled") go by this, never by the
/// wording of the error, which is for people.
#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum FailureKind {
    /// The settings, the secrets they name or the mail itself: nothing was tried on the network.
    Config,
    /// The OS keychain could not be read.
    KeychainUnavailable,
    /// Refused by the Do-Not-Email list or the daily limit; nothing was sent.
    Limits,
    /// The host name does not resolve, or has no address.
    Dns,
    /// The connection was refused (nothing listens on that port).
    Refused,
    /// No answer, or no progress, within the time allowed.
    Timeout,
    /// The server closed or reset the connection.
    Closed,
    /// Another network or I/O error (network unreachable, a pipe to a program, …).
    Io,
    /// TLS could not be set up: the CA file, the handshake, the certificate, or STARTTLS/STLS
    /// missing or refused.
    Tls,
    /// The login, the token or the sign-in was refused, or no usable login is offered.
    Auth,
    /// The server (or the sendmail program) refused: a negative SMTP reply, IMAP NO/BAD, POP3
    /// -ERR, an HTTP error status, a non-zero exit.
    Rejected,
    /// The peer does not speak the expected protocol, or lacks an extension the mail needs.
    Protocol,
    /// The administrator cancelled.
    Cancelled,
}

/// What a cancelled attempt reads (the window and the CLI show it as is).
pub const CANCELLED: &str = "Cancelled by the user";

/// Why an attempt stopped: the stage, the kind of failure, and what was seen (a raw reply or
/// the error, for people).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub stage: Stage,
    pub kind: FailureKind,
    pub error: String,
}

impl Failure {
    pub fn new(stage: Stage, kind: FailureKind, error: impl Into<String>) -> Failure {
        Failure { stage, kind, error: error.into() }
    }

    /// The administrator cancelled while `stage` was running.
    pub fn cancelled(stage: Stage) -> Failure {
        Failure::new(stage, FailureKind::Cancelled, CANCELLED)
    }

    /// An I/O error as an admin reads it: a reset, an aborted connection, a broken pipe or an
    /// early end is "the server closed the connection (reset)".
    pub fn io(stage: Stage, e: &std::io::Error) -> Failure {
        use std::io::ErrorKind::*;
        match e.kind() {
            ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof => Failure::new(stage, FailureKind::Closed, "the server closed the connection (reset)"),
            ConnectionRefused => Failure::new(stage, FailureKind::Refused, e.to_string()),
            _ => Failure::new(stage, FailureKind::Io, e.to_string()),
        }
    }
}

#[derive(Serialize, Clone, Debug, TS)]
#[ts(export)]
pub struct Report {
    pub ok: bool,
    pub server: Option<ServerSummary>,
    pub steps: Vec<Step>,
    pub failed_stage: Option<Stage>,
    /// The kind of failure (absent when the attempt succeeded).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub failure_kind: Option<FailureKind>,
    pub error: Option<String>,
    pub hint: Option<String>,
    /// The SMTP dialogue, `C:`/`S:` lines, with AUTH data redacted.
    pub transcript: Vec<String>,
}

impl Report {
    /// The report of one attempt: its steps and transcript, and on failure the stage, kind,
    /// error and the hint `hint_for` finds for them.
    pub fn of(
        server: Option<ServerSummary>,
        steps: Vec<Step>,
        transcript: Vec<String>,
        outcome: Result<(), Failure>,
        hint_for: fn(Stage, &str) -> Option<&'static str>,
    ) -> Report {
        match outcome {
            Ok(()) => Report { ok: true, server, steps, failed_stage: None, failure_kind: None, error: None, hint: None, transcript },
            Err(f) => Report {
                ok: false,
                server,
                steps,
                failed_stage: Some(f.stage),
                failure_kind: Some(f.kind),
                hint: hint_for(f.stage, &f.error).map(String::from),
                error: Some(f.error),
                transcript,
            },
        }
    }

    /// Plain text for "Copy report" and for the CLI: no secret can be in it (the transcript is
    /// redacted when recorded, and steps never hold secrets).
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        match &self.server {
            Some(s) => out.push_str(&format!(
                "Postdesk test mail via {}:{} (security {}, auth {}, from {})\n",
                s.host, s.port, s.security, s.auth, s.source
            )),
            None => out.push_str("Postdesk test mail: no server would be used\n"),
        }
        for step in &self.steps {
            out.push_str(&step_line(step));
            out.push('\n');
        }
        match (&self.failed_stage, &self.error) {
            (Some(stage), Some(error)) => {
                out.push_str(&format!("\nFailed at {}: {error}\n", stage.as_str()));
                if let Some(hint) = &self.hint {
                    out.push_str(&format!("What to do: {hint}\n"));
                }
            }
            _ if self.ok => out.push_str("\nDelivered: the server accepted the message.\n"),
            _ => {}
        }
        if !self.transcript.is_empty() {
            out.push_str("\nTranscript:\n");
            for line in &self.transcript {
                out.push_str(line);
                out.push('\n');
            }
        }
        out
    }
}

/// One step as a line: `✓ connect     12 ms  127.0.0.1:587`.
pub fn step_line(step: &Step) -> String {
    let mark = if step.ok { "✓" } else { "✗" };
    let detail = step.detail.replace('\n', " | ");
    format!("{mark} {:<9} {:>6} ms  {detail}", step.stage.as_str(), step.ms)
}
