//! Tauri commands: one-line delegations to `postdesk_core`. No logic lives here.

use std::collections::BTreeMap;

use std::sync::Mutex;

use postdesk_core::app::{Form, ImportPreview, SecretChange};
use postdesk_core::diagnosis::{Progress, Report};
use postdesk_core::prefetch::FormPrefetch;
use postdesk_core::{Postdesk, Problem};
use serde::Serialize;
use tauri::ipc::Channel;
use tauri::State;
use tokio::sync::oneshot;

/// A cancel switch for one running diagnosis (test mail, receiver check).
#[derive(Default)]
pub struct CancelSwitch(Mutex<Option<oneshot::Sender<()>>>);

impl CancelSwitch {
    /// Arms the switch: the future completes on [`CancelSwitch::cancel`] (a dropped switch,
    /// replaced by a newer run, does not stop anything).
    fn arm(&self) -> impl std::future::Future<Output = ()> {
        let (cancel_tx, cancel_rx) = oneshot::channel();
        *self.0.lock().expect("lock") = Some(cancel_tx);
        async {
            if cancel_rx.await.is_err() {
                std::future::pending::<()>().await
            }
        }
    }

    fn cancel(&self) {
        if let Some(cancel) = self.0.lock().expect("lock").take() {
            let _ = cancel.send(());
        }
    }
}

/// The running test mail's cancel switch (one test at a time per window).
#[derive(Default)]
pub struct RunningTest(CancelSwitch);

/// What a failed command gives the window: a message and the problems by key.
#[derive(Serialize, Debug)]
pub struct CommandError {
    message: String,
    problems: Vec<Problem>,
}

impl CommandError {
    pub fn message(message: &str) -> CommandError {
        CommandError { message: message.into(), problems: Vec::new() }
    }
}

impl From<postdesk_core::Error> for CommandError {
    fn from(e: postdesk_core::Error) -> Self {
        let problems = match &e {
            postdesk_core::Error::Invalid(p) => p.clone(),
            postdesk_core::Error::Redirected(r) => r.iter().map(|r| Problem { severity: postdesk_core::Severity::Error, ..r.as_problem() }).collect(),
            _ => Vec::new(),
        };
        CommandError { message: e.to_string(), problems }
    }
}

#[tauri::command(async)]
pub fn load_form(app: State<'_, Postdesk>, first: State<'_, FormPrefetch>) -> Form {
    crate::trace::mark("load_form called");
    let form = first.take_or_read(&app);
    crate::trace::mark("load_form answered");
    form
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

#[tauri::command]
pub async fn test_mail(
    app: State<'_, Postdesk>,
    running: State<'_, RunningTest>,
    edits: BTreeMap<String, String>,
    secrets: Vec<SecretChange>,
    to: String,
    on_progress: Channel<Progress>,
) -> Result<Report, CommandError> {
    let cancel = running.0.arm();
    let mut progress = |p: Progress| {
        let _ = on_progress.send(p);
    };
    Ok(app.test_draft(&edits, &secrets, to, &mut progress, cancel).await)
}

#[tauri::command]
pub fn cancel_test_mail(running: State<'_, RunningTest>) {
    running.0.cancel();
}

/// The running receiver check's cancel switch (apart from the test mail's).
#[derive(Default)]
pub struct RunningReceiverCheck(CancelSwitch);

#[tauri::command]
pub async fn receiver_check(
    app: State<'_, Postdesk>,
    running: State<'_, RunningReceiverCheck>,
    edits: BTreeMap<String, String>,
    secrets: Vec<SecretChange>,
    on_progress: Channel<Progress>,
) -> Result<Report, CommandError> {
    let cancel = running.0.arm();
    let mut progress = |p: Progress| {
        let _ = on_progress.send(p);
    };
    Ok(app.receiver_check(&edits, &secrets, &mut progress, cancel).await)
}

#[tauri::command]
pub fn cancel_receiver_check(running: State<'_, RunningReceiverCheck>) {
    running.0.cancel();
}

#[tauri::command(async)]
pub fn list_presets() -> Vec<postdesk_core::presets::Preset> {
    postdesk_core::presets::presets()
}

pub fn passphrase(p: Option<String>) -> Option<postdesk_core::Secret> {
    p.filter(|p| !p.is_empty()).map(postdesk_core::Secret::new)
}

/// What importing the chosen file (by its token, see `files.rs`) would change.
#[tauri::command(async)]
pub fn preview_import(app: State<'_, Postdesk>, files: State<'_, crate::files::Files>, token: String, passphrase: Option<String>) -> Result<ImportPreview, CommandError> {
    let bytes = files.import_bytes(&token)?;
    let plan = app.plan_import(&bytes, self::passphrase(passphrase).as_ref())?;
    Ok(ImportPreview { changes: plan.changes, secrets_missing: plan.secrets_missing, encrypted_secrets: Postdesk::file_has_encrypted_secrets(&bytes), redirects: plan.redirects, token })
}

/// Imports exactly the bytes that were previewed (read once, when the file was chosen).
#[tauri::command(async)]
pub fn apply_import(app: State<'_, Postdesk>, files: State<'_, crate::files::Files>, token: String, passphrase: Option<String>, allow_redirect: bool) -> Result<Form, CommandError> {
    let bytes = files.import_bytes(&token)?;
    let plan = app.plan_import(&bytes, self::passphrase(passphrase).as_ref())?;
    app.apply_import(&plan, allow_redirect)?;
    files.forget_import(&token);
    Ok(app.form())
}

#[tauri::command(async)]
pub fn undo_import(app: State<'_, Postdesk>) -> Result<Form, CommandError> {
    app.undo_import()?;
    Ok(app.form())
}

// --- Clients, routes, the explainer and the support request (issue 6) ---------------------

#[tauri::command(async)]
pub fn list_clients(app: State<'_, Postdesk>) -> Result<Vec<postdesk_core::clients::ClientRow>, CommandError> {
    Ok(app.clients()?)
}

#[tauri::command(async)]
pub fn add_client(app: State<'_, Postdesk>, id: String, name: String) -> Result<(), CommandError> {
    Ok(app.add_client(&id, &name)?)
}

#[tauri::command(async)]
pub fn rename_client(app: State<'_, Postdesk>, id: String, name: String) -> Result<(), CommandError> {
    Ok(app.rename_client(&id, &name)?)
}

#[tauri::command(async)]
pub fn remove_client(app: State<'_, Postdesk>, id: String) -> Result<(), CommandError> {
    Ok(app.remove_client(&id)?)
}

#[tauri::command(async)]
pub fn list_routes(app: State<'_, Postdesk>) -> Result<Vec<postdesk_core::clients::RouteRow>, CommandError> {
    Ok(app.routes()?)
}

#[tauri::command(async)]
pub fn add_route(app: State<'_, Postdesk>, name: String, from: String) -> Result<(), CommandError> {
    Ok(app.add_route(&name, &from)?)
}

#[tauri::command(async)]
pub fn remove_route(app: State<'_, Postdesk>, name: String) -> Result<(), CommandError> {
    Ok(app.remove_route(&name)?)
}

#[tauri::command(async)]
pub fn reorder_routes(app: State<'_, Postdesk>, names: Vec<String>) -> Result<(), CommandError> {
    Ok(app.reorder_routes(&names)?)
}

#[tauri::command(async)]
pub fn scope_form(app: State<'_, Postdesk>, prefix: String) -> Result<postdesk_core::clients::ScopeForm, CommandError> {
    Ok(app.scope_form(&prefix)?)
}

#[tauri::command(async)]
pub fn save_scope(
    app: State<'_, Postdesk>,
    prefix: String,
    edits: BTreeMap<String, String>,
    secrets: Vec<SecretChange>,
) -> Result<postdesk_core::clients::ScopeForm, CommandError> {
    Ok(app.save_scope(&prefix, &edits, &secrets)?)
}

#[tauri::command(async)]
pub fn explain(app: State<'_, Postdesk>, client: Option<String>, from: Option<String>) -> Result<postdesk_core::explain::Explanation, CommandError> {
    Ok(app.explain(client.as_deref(), from.as_deref())?)
}

#[tauri::command(async)]
pub fn support_preview(app: State<'_, Postdesk>, draft: postdesk_core::support::SupportDraft) -> Result<postdesk_core::support::SupportPreview, CommandError> {
    Ok(app.support_preview(&draft)?)
}

#[tauri::command]
pub async fn send_support(app: State<'_, Postdesk>, preview: postdesk_core::support::SupportPreview) -> Result<Report, CommandError> {
    Ok(app.send_support(&preview, &mut |_| {}, std::future::pending()).await)
}

// --- Invitation templates, Do-Not-Email list, daily limit (issue 8) ---------------------

use postdesk_core::dne::DneView;
use postdesk_core::templates::{TemplateDraft, TemplatePreview, TemplateView};

#[tauri::command(async)]
pub fn templates(app: State<'_, Postdesk>, client: Option<String>) -> Result<Vec<TemplateView>, CommandError> {
    Ok(app.templates(client.as_deref())?)
}

#[tauri::command(async)]
pub fn preview_template(draft: TemplateDraft) -> TemplatePreview {
    postdesk_core::templates::preview(&draft)
}

#[tauri::command(async)]
pub fn save_template(app: State<'_, Postdesk>, draft: TemplateDraft) -> Result<TemplateView, CommandError> {
    Ok(app.save_template(&draft)?)
}

#[tauri::command(async)]
pub fn reset_template(app: State<'_, Postdesk>, kind: String, client: Option<String>) -> Result<TemplateView, CommandError> {
    Ok(app.reset_template(&kind, client.as_deref())?)
}

#[tauri::command(async)]
pub fn remove_template(app: State<'_, Postdesk>, kind: String) -> Result<bool, CommandError> {
    Ok(app.remove_template(&kind)?)
}

#[tauri::command]
pub async fn send_template_preview(
    app: State<'_, Postdesk>,
    draft: TemplateDraft,
    to: String,
    on_progress: Channel<Progress>,
) -> Result<Report, CommandError> {
    let mut progress = |p: Progress| {
        let _ = on_progress.send(p);
    };
    Ok(app.send_template_preview(&draft, to, &mut progress, std::future::pending()).await)
}

#[tauri::command(async)]
pub fn dne_view(app: State<'_, Postdesk>) -> Result<DneView, CommandError> {
    Ok(app.dne_view()?)
}

#[tauri::command(async)]
pub fn dne_add(app: State<'_, Postdesk>, entries: Vec<String>) -> Result<DneView, CommandError> {
    app.dne_add(&entries)?;
    Ok(app.dne_view()?)
}

#[tauri::command(async)]
pub fn dne_remove(app: State<'_, Postdesk>, entries: Vec<String>) -> Result<DneView, CommandError> {
    app.dne_remove(&entries)?;
    Ok(app.dne_view()?)
}

#[tauri::command(async)]
pub fn save_limits(app: State<'_, Postdesk>, max_per_day: String, ignore_dne_for: String) -> Result<DneView, CommandError> {
    Ok(app.save_limits(&max_per_day, &ignore_dne_for)?)
}
