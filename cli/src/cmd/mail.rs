//! Commands that send or log in for real: `test-mail`, `receiver-check`, `send`, `support`.

use std::io::Read;
use std::time::Duration;

use postdesk_core::{step_line, Error, Postdesk, Progress, Request, Stage, SENDMAIL_USAGE};

use crate::args::Format;
use crate::input::{invalid_arg, utf8_args};
use crate::monitoring::{self, Thresholds};
use crate::output::{present, print_json, Output, EXIT_CONFIG, EXIT_FAILED};

#[allow(clippy::too_many_arguments)]
pub(super) fn test_mail(app: &Postdesk, to: String, client: Option<String>, from: Option<String>, timeout: Option<u64>, format: Format, thresholds: Thresholds) -> Result<u8, Error> {
    let request = Request {
        to: vec![to],
        client,
        from,
        timeout: timeout.map(Duration::from_secs),
        sent_log: Some(app.sent_log()),
        ..Default::default()
    };
    match format {
        Format::Nagios | Format::Prometheus => Ok(monitoring::test_mail(app, request, format, thresholds)),
        Format::Json | Format::Text => deliver(app, request, Output::steps_or_json(format == Format::Json)),
    }
}

/// Sends through the core and reports; exit 0 delivered, 1 failed, 2 settings, 3 keychain.
fn deliver(app: &Postdesk, request: Request, output: Output) -> Result<u8, Error> {
    let config = app.load()?;
    let mut progress = output.progress();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime");
    let report = runtime.block_on(app.send(&config, request, &mut progress, std::future::pending()));
    Ok(present(&report, output, "Delivered: the server accepted the message."))
}

/// `receiver-check`: log in to the receiver mailbox; exit 0 logged in, 1 failed, 2 settings.
pub(super) fn receiver_check(app: &Postdesk, json: bool) -> Result<u8, Error> {
    let output = Output::steps_or_json(json);
    app.load()?;
    let mut progress = output.progress();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime");
    let report = runtime.block_on(app.receiver_check(&Default::default(), &[], &mut progress, std::future::pending()));
    Ok(present(&report, output, "Logged in: the receiver accepted the username and password."))
}

/// `send`: sendmail's command line, the message on stdin, quiet on success (`-v`: each step).
pub(super) fn send(app: &Postdesk, raw: Vec<std::ffi::OsString>) -> Result<u8, Error> {
    let parsed = utf8_args(&raw).and_then(|a| Postdesk::parse_sendmail_args(&a).map_err(String::from));
    let args = match parsed {
        Ok(a) => a,
        Err(e) => {
            eprintln!("postdesk: {e}");
            return Ok(EXIT_CONFIG);
        }
    };
    if args.help {
        print!("{}", SENDMAIL_USAGE);
        return Ok(0);
    }
    let config = app.load()?;
    let mut message = Vec::new();
    if let Err(e) = std::io::stdin().lock().read_to_end(&mut message) {
        eprintln!("postdesk: cannot read the message from stdin: {e}");
        return Ok(EXIT_FAILED);
    }
    let input = match Postdesk::sendmail_input(&config, &args, &message) {
        Ok(i) => i,
        Err(e) if e.is_usage() => {
            eprintln!("postdesk: {e}");
            return Ok(EXIT_CONFIG);
        }
        Err(e) => {
            eprintln!("postdesk: {e}; nothing was sent");
            return Ok(EXIT_FAILED);
        }
    };
    if args.verbose && !args.ignored.is_empty() {
        println!("ignored, as sendmail does: {}", args.ignored.join(" "));
    }
    let request = Request {
        to: input.to,
        client: args.client,
        from: input.from,
        timeout: None,
        message: Some(input.message),
        compose: None,
        priority: args.priority,
        sent_log: Some(app.sent_log()),
        null_sender: input.null_sender,
        full_name: args.full_name,
    };
    deliver(app, request, if args.verbose { Output::Steps } else { Output::Quiet })
}

pub(super) fn support(app: &Postdesk, client: Option<String>, subject: String, preview_only: bool, json: bool) -> Result<u8, Error> {
    let mut message = String::new();
    std::io::stdin().read_to_string(&mut message).map_err(|e| invalid_arg("message", &format!("cannot read stdin: {e}")))?;
    let draft = postdesk_core::SupportDraft { client, subject, message };
    let preview = app.support_preview(&draft)?;
    if preview_only {
        if json {
            print_json(&preview);
        } else {
            println!("To: {} ({})\nThrough: {} {}:{} ({})\n", preview.to, preview.to_reason, preview.server.source, preview.server.host, preview.server.port, preview.route_reason);
            print!("{}", preview.raw.replace("\r\n", "\n"));
        }
        return Ok(0);
    }
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime");
    let mut progress = |p: Progress| {
        if let (false, Progress::Finished { step }) = (json, p) {
            println!("{}", step_line(&step));
        }
    };
    let report = runtime.block_on(app.send_support(&preview, &mut progress, std::future::pending()));
    if json {
        print_json(&report);
    }
    match (report.failed_stage, &report.error) {
        (Some(stage), Some(error)) => {
            eprintln!("postdesk: failed at {}: {error}", stage.as_str());
            Ok(if stage == Stage::Config { EXIT_CONFIG } else { EXIT_FAILED })
        }
        _ => Ok(0),
    }
}
