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

#[derive(Serialize, Clone, Debug, TS)]
#[ts(export)]
pub struct Report {
    pub ok: bool,
    pub server: Option<ServerSummary>,
    pub steps: Vec<Step>,
    pub failed_stage: Option<Stage>,
    pub error: Option<String>,
    pub hint: Option<String>,
    /// The SMTP dialogue, `C:`/`S:` lines, with AUTH data redacted.
    pub transcript: Vec<String>,
}

impl Report {
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
