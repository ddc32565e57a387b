//! Sending as `Postdesk` operations: a mail through the resolved server (`test-mail`, `send`)
//! and the reading of sendmail's command line and message for `postdesk send`. The sending
//! itself is [`crate::mail`]; sendmail's options are [`crate::sendmail_args`].

use std::future::Future;

use crate::app::Postdesk;
use crate::diagnosis::{Progress, Report};
use crate::mail::{self, Request};
use crate::model::Config;
use crate::sendmail_args::{self, Input, InputError, SendArgs, UsageError};

impl Postdesk {
    /// Sends `request` with the settings `config` (as loaded by [`Postdesk::load`]) and this
    /// data directory's keychain entries, reporting every step; `cancel` completing stops the
    /// attempt where it is.
    pub async fn send(&self, config: &Config, request: Request, progress: &mut (dyn FnMut(Progress) + Send), cancel: impl Future<Output = ()>) -> Report {
        mail::send(config, self, request, progress, cancel).await
    }

    /// sendmail's command line (`postdesk send ARGS`), read as sendmail reads it.
    pub fn parse_sendmail_args<S: AsRef<str>>(args: &[S]) -> Result<SendArgs, UsageError> {
        sendmail_args::parse(args)
    }

    /// The recipients, sender and message `postdesk send` sends: from the arguments and, with
    /// `-t`, the message's fields; bare names get the domain `config` gives them.
    pub fn sendmail_input(config: &Config, args: &SendArgs, message: &[u8]) -> Result<Input, InputError> {
        sendmail_args::input(args, message, sendmail_args::local_domain(config).as_deref())
    }
}
