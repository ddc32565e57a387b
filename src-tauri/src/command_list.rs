// Every command the window's page can call, each declared once (see `commands!` in
// commands.rs for the grammar). Included by commands.rs (the functions, the handler list and
// the TypeScript module ui/src/lib/bindings/commands.ts) and by build.rs (the ACL manifest):
// this file holds nothing but the one `commands!` invocation.
//
// A new command: add it here, grant `allow-<name>` in capabilities/default.json (a test
// checks), run `make bindings`, and call it from the UI through `api.ts`.
commands! {
    /// The settings the window edits (`global.*`, `support.*`): values, defaults, which secrets are set, problems.
    async fn load_form() using (app: State<'_, Postdesk>, first: State<'_, FormPrefetch>) -> Form {
        crate::trace::mark("load_form called");
        let form = first.take_or_read(&app);
        crate::trace::mark("load_form answered");
        Ok(form)
    }

    /// The organization's policy: where it comes from, what it sets and locks, and which of the
    /// form's keys are locked (shown with a lock, not editable; the core refuses them anyway).
    async fn policy() using (app: State<'_, Postdesk>) -> PolicyView {
        Ok(app.policy_view())
    }

    /// The problems the saved settings would have with these edits and secret changes (nothing is saved).
    async fn preview(edits: BTreeMap<String, String>, secrets: Vec<SecretChange>) using (app: State<'_, Postdesk>) -> Vec<Problem> {
        Ok(app.preview(&edits, &secrets))
    }

    /// Saves the edits and secret changes; resolves with the new form. Rejects (`invalid`, with
    /// the problems by key) when nothing was saved.
    async fn save(edits: BTreeMap<String, String>, secrets: Vec<SecretChange>) using (app: State<'_, Postdesk>) -> Form {
        app.save_form(&edits, &secrets).map_err(|e| {
            eprintln!("postdesk: save failed: {e}");
            e.into()
        })
    }

    /// Sends a test mail with the saved settings plus these edits and secret changes (nothing is
    /// saved). Resolves with the report whether the mail went out or not; rejects only when the
    /// test could not run at all.
    async fn test_mail(edits: BTreeMap<String, String>, secrets: Vec<SecretChange>, to: String, on_progress: Channel<Progress>)
        using (app: State<'_, Postdesk>, running: State<'_, RunningTest>) -> Report
    {
        let cancel = running.0.arm();
        Ok(app.test_draft(&edits, &secrets, to, &mut progress_to(&on_progress), cancel).await)
    }

    /// Stops the running test; it then resolves with a failed report ("Cancelled").
    fn cancel_test_mail() using (running: State<'_, RunningTest>) -> () {
        running.0.cancel();
        Ok(())
    }

    /// Asks where to (a native dialog on the Rust side), then writes the saved settings there;
    /// with a passphrase the secrets too, encrypted, else the file only names them. Resolves with
    /// the path written, or null when the admin cancelled.
    async fn export_config(passphrase: Option<String>) using (app: AppHandle, window: WebviewWindow, postdesk: State<'_, Postdesk>) -> Option<String> {
        crate::files::export_config(&app, &window, &postdesk, passphrase)
    }

    /// Asks which file to import (a native dialog) and reads it once; null when cancelled.
    async fn choose_import() using (app: AppHandle, window: WebviewWindow, files: State<'_, Files>) -> Option<ChosenFile> {
        crate::files::choose_import(&app, &window, &files)
    }

    /// Reads a file dropped on the window (named by the id of its `dropped` event) for import.
    async fn open_dropped(id: String) using (files: State<'_, Files>) -> ChosenFile {
        files.open_dropped(&id)
    }

    /// What importing the chosen file (by its token) would change; nothing is changed.
    async fn preview_import(token: String, passphrase: Option<String>) using (app: State<'_, Postdesk>, files: State<'_, Files>) -> ImportPreview {
        let bytes = files.import_bytes(&token)?;
        let plan = app.plan_import(&bytes, self::passphrase(passphrase).as_ref())?;
        Ok(ImportPreview { changes: plan.changes, secrets_missing: plan.secrets_missing, encrypted_secrets: Postdesk::file_has_encrypted_secrets(&bytes), redirects: plan.redirects, locked: plan.locked, token })
    }

    /// Imports exactly the previewed bytes (read once, when the file was chosen); resolves with
    /// the new form. Changes of where stored secrets go (the preview's `redirects`) need
    /// `allowRedirect`.
    async fn apply_import(token: String, passphrase: Option<String>, allow_redirect: bool) using (app: State<'_, Postdesk>, files: State<'_, Files>) -> Form {
        let bytes = files.import_bytes(&token)?;
        let plan = app.plan_import(&bytes, self::passphrase(passphrase).as_ref())?;
        app.apply_import(&plan, allow_redirect)?;
        files.forget_import(&token);
        Ok(app.form())
    }

    /// Restores the settings (and secrets) from before the last import.
    async fn undo_import() using (app: State<'_, Postdesk>) -> Form {
        app.undo_import()?;
        Ok(app.form())
    }

    /// The clients, by ID.
    async fn list_clients() using (app: State<'_, Postdesk>) -> Vec<ClientRow> {
        Ok(app.clients()?)
    }

    async fn add_client(id: String, name: String) using (app: State<'_, Postdesk>) -> () {
        Ok(app.add_client(&id, &name)?)
    }

    async fn rename_client(id: String, name: String) using (app: State<'_, Postdesk>) -> () {
        Ok(app.rename_client(&id, &name)?)
    }

    /// Removes a client and its secrets.
    async fn remove_client(id: String) using (app: State<'_, Postdesk>) -> () {
        Ok(app.remove_client(&id)?)
    }

    /// The From-address routes in their order.
    async fn list_routes() using (app: State<'_, Postdesk>) -> Vec<RouteRow> {
        Ok(app.routes()?)
    }

    async fn add_route(name: String, from: String) using (app: State<'_, Postdesk>) -> () {
        Ok(app.add_route(&name, &from)?)
    }

    async fn remove_route(name: String) using (app: State<'_, Postdesk>) -> () {
        Ok(app.remove_route(&name)?)
    }

    /// Puts the routes in this order (orders 10, 20, …).
    async fn reorder_routes(names: Vec<String>) using (app: State<'_, Postdesk>) -> () {
        Ok(app.reorder_routes(&names)?)
    }

    /// One client's (`client.<ID>`) or route's (`route.<NAME>`) keys with what they inherit.
    async fn scope_form(prefix: String) using (app: State<'_, Postdesk>) -> ScopeForm {
        Ok(app.scope_form(&prefix)?)
    }

    /// Saves edits of one client or route (`""` resets a key to inherited).
    async fn save_scope(prefix: String, edits: BTreeMap<String, String>, secrets: Vec<SecretChange>) using (app: State<'_, Postdesk>) -> ScopeForm {
        Ok(app.save_scope(&prefix, &edits, &secrets)?)
    }

    /// Who sends a mail of `client` from `from`, and why.
    async fn explain(client: Option<String>, from: Option<String>) using (app: State<'_, Postdesk>) -> Explanation {
        Ok(app.explain(client.as_deref(), from.as_deref())?)
    }

    /// Exactly what a support request would send, and where.
    async fn support_preview(draft: SupportDraft) using (app: State<'_, Postdesk>) -> SupportPreview {
        Ok(app.support_preview(&draft)?)
    }

    /// Sends exactly the previewed message; resolves with the report whether it went out or not.
    async fn send_support(preview: SupportPreview) using (app: State<'_, Postdesk>) -> Report {
        Ok(app.send_support(&preview, &mut |_| {}, std::future::pending()).await)
    }

    /// Logs in to the receiver mailbox with the saved settings plus these edits and secret
    /// changes (nothing is saved). Resolves with the report whether the login worked or not.
    async fn receiver_check(edits: BTreeMap<String, String>, secrets: Vec<SecretChange>, on_progress: Channel<Progress>)
        using (app: State<'_, Postdesk>, running: State<'_, RunningReceiverCheck>) -> Report
    {
        let cancel = running.0.arm();
        Ok(app.receiver_check(&edits, &secrets, &mut progress_to(&on_progress), cancel).await)
    }

    /// Stops the running receiver check; it then resolves with a failed report ("Cancelled").
    fn cancel_receiver_check() using (running: State<'_, RunningReceiverCheck>) -> () {
        running.0.cancel();
        Ok(())
    }

    /// Every invitation template, built-in user types first; with a client ID, the texts in force for that client.
    async fn templates(client: Option<String>) using (app: State<'_, Postdesk>) -> Vec<TemplateView> {
        Ok(app.templates(client.as_deref())?)
    }

    /// The draft filled with the sample values, and its errors with their positions.
    async fn preview_template(draft: TemplateDraft) -> TemplatePreview {
        Ok(Postdesk::template_preview(&draft))
    }

    /// Saves a template (a new user type is created).
    async fn save_template(draft: TemplateDraft) using (app: State<'_, Postdesk>) -> TemplateView {
        Ok(app.save_template(&draft)?)
    }

    /// Back to the built-in texts (saved at once); with a client ID, removes its override ("Reset to inherited").
    async fn reset_template(kind: String, client: Option<String>) using (app: State<'_, Postdesk>) -> TemplateView {
        Ok(app.reset_template(&kind, client.as_deref())?)
    }

    /// Removes a user type that is not built in.
    async fn remove_template(kind: String) using (app: State<'_, Postdesk>) -> bool {
        Ok(app.remove_template(&kind)?)
    }

    /// Sends the draft, filled with the sample values, through the resolved route.
    async fn send_template_preview(draft: TemplateDraft, to: String, on_progress: Channel<Progress>) using (app: State<'_, Postdesk>) -> Report {
        Ok(app.send_template_preview(&draft, to, &mut progress_to(&on_progress), std::future::pending()).await)
    }

    /// The Do-Not-Email list, the daily limit and the count of the last 24 hours.
    async fn dne_view() using (app: State<'_, Postdesk>) -> DneView {
        Ok(app.dne_view()?)
    }

    /// Adds entries; rejects (`invalid`, nothing added) when one is invalid.
    async fn dne_add(entries: Vec<String>) using (app: State<'_, Postdesk>) -> DneView {
        app.dne_add(&entries)?;
        Ok(app.dne_view()?)
    }

    async fn dne_remove(entries: Vec<String>) using (app: State<'_, Postdesk>) -> DneView {
        app.dne_remove(&entries)?;
        Ok(app.dne_view()?)
    }

    /// Asks for a CSV file (a native dialog) and adds its entries; null when cancelled. Rejects
    /// with the bad lines (nothing added).
    async fn dne_import() using (app: AppHandle, window: WebviewWindow, postdesk: State<'_, Postdesk>) -> Option<DneImported> {
        crate::files::dne_import(&app, &window, &postdesk)
    }

    /// Asks where to (a native dialog) and writes the list as CSV; null when cancelled.
    async fn dne_export() using (app: AppHandle, window: WebviewWindow, postdesk: State<'_, Postdesk>) -> Option<DneExported> {
        crate::files::dne_export(&app, &window, &postdesk)
    }

    /// Saves `limits.max_per_day` and `limits.ignore_dne_for`.
    async fn save_limits(max_per_day: String, ignore_dne_for: String) using (app: State<'_, Postdesk>) -> DneView {
        Ok(app.save_limits(&max_per_day, &ignore_dne_for)?)
    }

    /// The provider presets ("Start from a preset").
    async fn list_presets() -> Vec<Preset> {
        Ok(Postdesk::presets())
    }

    /// Delegated sign-in with the saved settings: in an embedded login window, or through the
    /// system browser. Resolves with the account, or the error and its hint.
    async fn m365_sign_in(browser: bool) using (app: AppHandle, postdesk: State<'_, Postdesk>) -> SignInStatus {
        Ok(crate::login::m365_sign_in(&app, &postdesk, browser).await)
    }

    /// The Microsoft 365 account signed in with the saved settings, or why none can be.
    async fn m365_status() using (postdesk: State<'_, Postdesk>) -> SignInStatus {
        Ok(postdesk.sign_in_status(None))
    }

    /// Forgets the sign-in (refresh token and account leave the keychain).
    async fn m365_sign_out() using (postdesk: State<'_, Postdesk>) -> SignInStatus {
        Ok(crate::login::m365_sign_out(&postdesk))
    }

    /// A remembered UI preference (one of a fixed list of keys), null when there is none.
    async fn get_pref(key: String) using (app: AppHandle) -> Option<serde_json::Value> {
        crate::files::get_pref(&app, &key)
    }

    /// Remembers a UI preference: a short text (one of a fixed list of keys).
    async fn set_pref(key: String, value: String) using (app: AppHandle) -> () {
        crate::files::set_pref(&app, key, value)
    }
}
