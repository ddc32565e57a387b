//! Tauri commands: one-line delegations to `postdesk_core`. No logic lives here.

use std::collections::BTreeMap;

use postdesk_core::app::{Form, SecretChange};
use postdesk_core::{Postdesk, Problem};
use serde::Serialize;
use tauri::State;

/// What a failed command gives the window: a message and the problems by key.
#[derive(Serialize, Debug)]
pub struct CommandError {
    message: String,
    problems: Vec<Problem>,
}

impl From<postdesk_core::Error> for CommandError {
    fn from(e: postdesk_core::Error) -> Self {
        let problems = match &e {
            postdesk_core::Error::Invalid(p) => p.clone(),
            _ => Vec::new(),
        };
        CommandError { message: e.to_string(), problems }
    }
}

#[tauri::command(async)]
pub fn load_form(app: State<'_, Postdesk>) -> Form {
    app.form()
}

#[tauri::command(async)]
pub fn preview(app: State<'_, Postdesk>, edits: BTreeMap<String, String>, secrets: Vec<SecretChange>) -> Vec<Problem> {
    app.preview(&edits, &secrets)
}

#[tauri::command(async)]
pub fn save(app: State<'_, Postdesk>, edits: BTreeMap<String, String>, secrets: Vec<SecretChange>) -> Result<Form, CommandError> {
    app.save_form(&edits, &secrets).map_err(|e| {
        eprintln!("postdesk: save failed: {e}");
        e.into()
    })
}
