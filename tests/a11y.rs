//! Accessibility in the real window (WebKitGTK under Xvfb, through tauri-driver and
//! WebKitWebDriver): axe-core's default rules over every view and every dialog with real data,
//! and keyboard-only walks (WebDriver key actions, no clicks) that end with the focus where a
//! person expects it. axe-core comes from the npm registry (`ui/package.json` devDependencies,
//! installed by `npm ci`); its `axe.min.js` is executed in the page through WebDriver.
//! `make test` provides the display, the D-Bus session with gnome-keyring and tauri-driver;
//! run with `-- --test-threads=1` after `make ui`.

use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use fantoccini::Client;
use postdesk_tests::root;
use serde_json::{json, Value};

mod window;
use window::*;

// --- The keyboard, through WebDriver key actions -----------------------------------------

/// Presses each key in turn (down, up) where the focus is, as a person at the keyboard.
async fn press(c: &Client, keys: &[Key]) {
    let mut seq = KeyActions::new("keyboard".into());
    for k in keys {
        let ch: char = (*k).into();
        seq = seq.then(KeyAction::Down { value: ch }).then(KeyAction::Up { value: ch });
    }
    c.perform_actions(seq).await.unwrap();
}

/// Types text where the focus is, one key at a time.
async fn type_keys(c: &Client, text: &str) {
    let mut seq = KeyActions::new("keyboard".into());
    for ch in text.chars() {
        seq = seq.then(KeyAction::Down { value: ch }).then(KeyAction::Up { value: ch });
    }
    c.perform_actions(seq).await.unwrap();
}

async fn shift_tab(c: &Client) {
    let shift: char = Key::Shift.into();
    let tab: char = Key::Tab.into();
    let seq = KeyActions::new("keyboard".into())
        .then(KeyAction::Down { value: shift })
        .then(KeyAction::Down { value: tab })
        .then(KeyAction::Up { value: tab })
        .then(KeyAction::Up { value: shift });
    c.perform_actions(seq).await.unwrap();
}

/// A short description of `document.activeElement` for messages.
async fn focused(c: &Client) -> String {
    let v = c
        .execute(
            "const a = document.activeElement; if (!a || a === document.body) return 'the page body'; \
             const h = a.outerHTML; const end = h.indexOf('>'); return h.slice(0, end < 0 ? 120 : Math.min(end + 1, 200));",
            vec![],
        )
        .await
        .unwrap();
    v.as_str().unwrap_or("?").to_string()
}

async fn focus_matches(c: &Client, selector: &str) -> bool {
    c.execute("return !!document.activeElement && document.activeElement.matches(arguments[0])", vec![json!(selector)])
        .await
        .unwrap()
        .as_bool()
        .unwrap_or(false)
}

/// Waits until the focus is on `selector` (a dialog gives it back a moment after closing).
async fn assert_focus(c: &Client, selector: &str, what: &str) {
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        if focus_matches(c, selector).await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what}: the focus should be on {selector}, it is on {}", focused(c).await);
}

/// Presses Tab until the focus is on `selector` (at most `max` times), as a keyboard user
/// gets there; names every stop when it never arrives.
async fn tab_to(c: &Client, selector: &str, max: usize) {
    let mut stops = Vec::new();
    for _ in 0..max {
        if focus_matches(c, selector).await {
            return;
        }
        press(c, &[Key::Tab]).await;
        stops.push(focused(c).await);
    }
    if !focus_matches(c, selector).await {
        panic!("{max} Tabs never reached {selector}; the focus went through:\n  {}", stops.join("\n  "));
    }
}

/// The active option of the Clients listbox: its `data-client`, whether it is selected and
/// whether it is fully inside the list's visible area.
async fn active_option(c: &Client) -> Value {
    c.execute(
        "const list = document.querySelector('[role=listbox]'); if (!list) return null; \
         const id = list.getAttribute('aria-activedescendant'); const o = id && document.getElementById(id); \
         if (!o) return { id, exists: false }; \
         const r = o.getBoundingClientRect(), l = list.getBoundingClientRect(); \
         return { id, exists: true, client: o.dataset.client, selected: o.getAttribute('aria-selected'), role: o.getAttribute('role'), \
                  shown: r.top >= l.top - 1 && r.bottom <= l.bottom + 1 && r.height > 0, inList: list.contains(o) };",
        vec![],
    )
    .await
    .unwrap()
}

async fn expect_active(c: &Client, client: &str) {
    let deadline = Instant::now() + WAIT;
    let mut last = json!(null);
    while Instant::now() < deadline {
        last = active_option(c).await;
        if last["client"] == json!(client) && last["shown"] == json!(true) && last["inList"] == json!(true) && last["role"] == json!("option") {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the active option should be {client}, rendered and scrolled into view; it is {last}");
}

// --- axe-core ---------------------------------------------------------------------------

fn axe_source() -> String {
    let path = root().join("ui/node_modules/axe-core/axe.min.js");
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (axe-core is a devDependency of ui/: `make ui` runs npm ci)", path.display()))
}

/// Runs axe-core (default rules) over the page as it is now and fails with every violation,
/// one readable paragraph each. Injects axe first when the page does not have it yet.
async fn audit(c: &Client, axe: &str, what: &str) {
    let has = c.execute("return typeof window.axe === 'object'", vec![]).await.unwrap();
    if has != json!(true) {
        c.execute(axe, vec![]).await.unwrap();
        let has = c.execute("return typeof window.axe === 'object' && typeof window.axe.run === 'function'", vec![]).await.unwrap();
        assert_eq!(has, json!(true), "axe-core did not load into the page");
    }
    // After the last change has been laid out.
    c.execute_async("requestAnimationFrame(() => requestAnimationFrame(() => arguments[0]()))", vec![]).await.unwrap();
    let result = c
        .execute_async(
            "const done = arguments[arguments.length - 1]; \
             window.axe.run(document).then( \
               (r) => done({ passes: r.passes.length, violations: r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, url: v.helpUrl, \
                 nodes: v.nodes.map((n) => ({ target: n.target.join(' '), html: n.html.slice(0, 200), summary: n.failureSummary })) })) }), \
               (e) => done({ error: String(e) }));",
            vec![],
        )
        .await
        .unwrap();
    assert!(result.get("error").is_none(), "{what}: axe.run failed: {}", result["error"]);
    let passes = result["passes"].as_u64().unwrap_or(0);
    assert!(passes > 0, "{what}: axe checked nothing ({result})");
    let violations = result["violations"].as_array().cloned().unwrap_or_default();
    if !violations.is_empty() {
        let mut text = format!("{what}: axe-core found {} violation(s):\n", violations.len());
        for v in &violations {
            text.push_str(&format!("\n[{}] {} — {} ({})\n", v["impact"].as_str().unwrap_or("?"), v["id"].as_str().unwrap_or("?"), v["help"].as_str().unwrap_or(""), v["url"].as_str().unwrap_or("")));
            for n in v["nodes"].as_array().into_iter().flatten() {
                text.push_str(&format!("  at {}\n    {}\n    {}\n", n["target"].as_str().unwrap_or(""), n["html"].as_str().unwrap_or(""), n["summary"].as_str().unwrap_or("").replace('\n', "\n    ")));
            }
        }
        panic!("{text}");
    }
    eprintln!("axe: {what}: 0 violations ({passes} rules passed)");
}

// --- Data ---------------------------------------------------------------------------------

/// A data dir with the global server on (sending to `port`), `n` clients named `Client 00000`…,
/// and `routes` (name, From pattern).
fn data_with(n: usize, port: u16, routes: &[(&str, &str)]) -> tempfile::TempDir {
    let data = tempfile::tempdir().unwrap();
    let port = port.to_string();
    postdesk_tests::configure(
        data.path(),
        &[
            ("global.enabled", "true"),
            ("global.host", "127.0.0.1"),
            ("global.port", &port),
            ("global.security", "none"),
            ("global.sender.address", "it@example.test"),
            ("global.sender.name", "IT Service Desk"),
            ("support.address", "helpdesk@example.test"),
        ],
    );
    let store = postdesk_core::store::Store::new(data.path());
    let mut config = store.load().unwrap();
    for i in 0..n {
        let client = postdesk_core::model::ClientSettings { name: Some(format!("Client {i:05}")), ..Default::default() };
        config.clients.insert(format!("c{i:05}"), client);
    }
    store.save(&config, &store.lock().unwrap()).unwrap();
    for (name, from) in routes {
        postdesk_tests::configure(data.path(), &[(&format!("route.{name}.from"), from), (&format!("route.{name}.enabled"), "true")]);
    }
    data
}

/// A port nothing listens on (bound, then closed).
fn closed_port() -> u16 {
    free_port()
}

// --- The audit ----------------------------------------------------------------------------

#[tokio::test]
async fn axe_finds_no_violation_in_any_view_or_dialog_with_real_data() {
    require_window();
    let axe = axe_source();
    let data = data_with(12, closed_port(), &[("ceo", "ceo@example.test"), ("corp", "*@example.test")]);
    let home = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir().unwrap();
    let driver = TauriDriver::start(data.path(), home.path());
    let c = driver.session().await;
    find(&c, "[data-ready=\"true\"]").await;

    // Base with a failed test mail shown (nothing listens on the port).
    click(&c, "[data-section=\"base\"]").await;
    find(&c, "[data-panel=\"base\"]").await;
    type_into(&c, "[data-test-mail-to]", "someone@example.test").await;
    click(&c, "#test-mail-send").await;
    find(&c, "#test-mail-result[data-ok=\"false\"]").await;
    find(&c, "#test-mail-hint").await;
    audit(&c, &axe, "Base, with a failed test mail").await;
    for s in ["security", "support"] {
        click(&c, &format!("[data-section=\"{s}\"]")).await;
        find(&c, &format!("[data-panel=\"{s}\"]")).await;
        audit(&c, &axe, s).await;
    }
    // The settings form with a problem under a field.
    click(&c, "[data-section=\"base\"]").await;
    type_into(&c, "[data-key=\"global.port\"]", "99999").await;
    find(&c, "[data-problem-for=\"global.port\"]").await;
    audit(&c, &axe, "Base, with a problem under a field and unsaved changes").await;

    // The close prompt (unsaved changes).
    c.execute("window.__TAURI_INTERNALS__.invoke('plugin:window|close', { label: 'main' })", vec![]).await.unwrap();
    find(&c, "#close-dialog").await;
    audit(&c, &axe, "the close dialog").await;
    press(&c, &[Key::Escape]).await;
    wait_gone(&c, "#close-dialog").await;

    // Import over unsaved changes asks first.
    let other = tempfile::tempdir().unwrap();
    postdesk_tests::configure(other.path(), &[("global.enabled", "true"), ("global.host", "smtp.other.test"), ("global.sender.address", "it@example.test")]);
    let incoming = files.path().join("other.json");
    let r = postdesk_tests::postdesk(other.path(), &["export", incoming.to_str().unwrap()], None);
    assert_eq!(r.code, 0, "{r:?}");
    answer_dialog(home.path(), &incoming);
    click(&c, "#import-open").await;
    find(&c, "#import-confirm").await;
    audit(&c, &axe, "the import's \"replace unsaved changes\" dialog").await;
    click(&c, "#import-confirm-ok").await;
    find(&c, "#import-preview").await;
    audit(&c, &axe, "the import preview").await;
    click(&c, "#import-cancel").await;
    wait_gone(&c, "#import-preview").await;
    click(&c, "#revert").await;

    // An encrypted file asks for its passphrase; a wrong one is said under the field.
    let secret_src = tempfile::tempdir().unwrap();
    postdesk_tests::configure(secret_src.path(), &[("global.enabled", "true"), ("global.host", "smtp.other.test"), ("global.auth", "password"), ("global.username", "u"), ("global.security", "starttls"), ("global.sender.address", "it@example.test")]);
    postdesk_core::secrets::Keychain::for_data_dir(secret_src.path()).set("global.password", &postdesk_core::Secret::new("a11y-Secret-1")).unwrap();
    let pass_file = files.path().join("pass.txt");
    std::fs::write(&pass_file, "a11y passphrase 42").unwrap();
    let encrypted = files.path().join("encrypted.json");
    let r = postdesk_tests::postdesk(secret_src.path(), &["export", encrypted.to_str().unwrap(), "--with-secrets", "--passphrase-file", pass_file.to_str().unwrap()], None);
    assert_eq!(r.code, 0, "{r:?}");
    postdesk_core::secrets::Keychain::for_data_dir(secret_src.path()).clear("global.password").unwrap();
    answer_dialog(home.path(), &encrypted);
    click(&c, "#import-open").await;
    find(&c, "#import-passphrase-dialog").await;
    audit(&c, &axe, "the import passphrase dialog").await;
    type_into(&c, "[data-import-passphrase]", "not the passphrase").await;
    click(&c, "#import-passphrase-ok").await;
    find(&c, "#import-passphrase-problem").await;
    audit(&c, &axe, "the import passphrase dialog with a wrong passphrase").await;
    click(&c, "#import-passphrase-cancel").await;
    wait_gone(&c, "#import-passphrase-dialog").await;

    // A file that cannot be imported lists its problems.
    let bad = files.path().join("bad.json");
    let text = std::fs::read_to_string(&incoming).unwrap().replace("\"smtp.other.test\"", "\"smtp other\"");
    std::fs::write(&bad, text).unwrap();
    answer_dialog(home.path(), &bad);
    click(&c, "#import-open").await;
    find(&c, "#import-errors").await;
    audit(&c, &axe, "the import errors dialog").await;
    click(&c, "#import-errors-close").await;
    wait_gone(&c, "#import-errors").await;

    // Export, with secrets and a mismatched passphrase shown.
    click(&c, "#export-open").await;
    find(&c, "#export-dialog").await;
    audit(&c, &axe, "the export dialog").await;
    click(&c, "[data-export-with-secrets]").await;
    type_into(&c, "[data-passphrase]", "short").await;
    type_into(&c, "[data-passphrase-confirm]", "other").await;
    click(&c, "#export-confirm").await;
    find(&c, "[data-passphrase-problem]").await;
    audit(&c, &axe, "the export dialog with secrets and passphrase problems").await;
    click(&c, "#export-cancel").await;
    wait_gone(&c, "#export-dialog").await;

    // Clients: the list, one chosen (its settings and the explainer), an empty search, removal.
    click(&c, "[data-view=\"clients\"]").await;
    find(&c, "[data-view-panel=\"clients\"]").await;
    wait_content(&c, "[data-clients-count]", "12 of 12").await;
    audit(&c, &axe, "Clients").await;
    click(&c, "[data-client=\"c00003\"]").await;
    find(&c, "[data-inherited=\"client.c00003.host\"]").await;
    find(&c, "[data-explainer] .explain-answer").await;
    audit(&c, &axe, "Clients, one client chosen").await;
    type_into(&c, "[data-clients-search]", "no such client").await;
    find(&c, "[data-clients-empty]").await;
    audit(&c, &axe, "Clients, a search that matches nothing").await;
    click(&c, "[data-client-remove=\"c00003\"]").await;
    find(&c, "#remove-client-dialog").await;
    audit(&c, &axe, "the remove-client dialog").await;
    press(&c, &[Key::Escape]).await;
    wait_gone(&c, "#remove-client-dialog").await;

    // Routes: the list, the explainer's answer for an address, a route's editor, removal.
    click(&c, "[data-view=\"routes\"]").await;
    find(&c, "[data-route=\"ceo\"]").await;
    type_into(&c, "[data-explain-from]", "ceo@example.test").await;
    find(&c, "[data-route=\"ceo\"][data-winner=\"true\"]").await;
    audit(&c, &axe, "Routes, with the winning route shown").await;
    click(&c, "[data-route-edit=\"corp\"]").await;
    find(&c, "[data-route-editor-title]").await;
    audit(&c, &axe, "Routes, a route's editor open").await;
    click(&c, "[data-route-remove=\"ceo\"]").await;
    find(&c, "#remove-route-dialog").await;
    audit(&c, &axe, "the remove-route dialog").await;
    press(&c, &[Key::Escape]).await;
    wait_gone(&c, "#remove-route-dialog").await;

    // The pages that save on their own.
    click(&c, "[data-view=\"templates\"]").await;
    find(&c, "[data-panel=\"templates\"]").await;
    audit(&c, &axe, "Invitation templates").await;
    click(&c, "[data-view=\"dne\"]").await;
    find(&c, "[data-panel=\"dne\"]").await;
    audit(&c, &axe, "Do-Not-Email list").await;
    c.close().await.unwrap();
}

// --- Keyboard-only walks -----------------------------------------------------------------

#[tokio::test]
async fn keyboard_only_a_client_is_chosen_among_thousands() {
    require_window();
    let data = data_with(3_000, closed_port(), &[]);
    let home = tempfile::tempdir().unwrap();
    let driver = TauriDriver::start(data.path(), home.path());
    let c = driver.session().await;
    find(&c, "[data-ready=\"true\"]").await;

    // To the Clients view by Tab and Enter.
    tab_to(&c, "[data-view=\"clients\"]", 10).await;
    press(&c, &[Key::Enter]).await;
    wait_content(&c, "[data-clients-count]", "3000 of 3000").await;
    assert_focus(&c, "[data-view=\"clients\"]", "after opening the Clients view").await;

    // Through the add form and the search into the list: the first option is active.
    tab_to(&c, "[data-client-list]", 15).await;
    expect_active(&c, "c00000").await;
    // End: the last of 3,000, far outside the rows in the page, is rendered and scrolled to.
    press(&c, &[Key::End]).await;
    expect_active(&c, "c02999").await;
    let rendered = c.execute("return document.querySelectorAll('[data-client]').length", vec![]).await.unwrap();
    assert!(rendered.as_u64().unwrap() < 40, "the list stays virtualized: {rendered} rows");
    press(&c, &[Key::Up, Key::Up]).await;
    expect_active(&c, "c02997").await;
    press(&c, &[Key::Home]).await;
    expect_active(&c, "c00000").await;
    press(&c, &[Key::PageDown]).await;
    let after_page = active_option(&c).await;
    let n: u32 = after_page["client"].as_str().unwrap().trim_start_matches('c').parse().unwrap();
    assert!((5..=12).contains(&n), "PageDown moves by a page of rows: {after_page}");
    press(&c, &[Key::Down]).await;
    expect_active(&c, &format!("c{:05}", n + 1)).await;
    // Type-ahead, then Enter chooses.
    type_keys(&c, "Client 01500").await;
    expect_active(&c, "c01500").await;
    screenshot(&c, "clients-keyboard").await;
    press(&c, &[Key::Enter]).await;
    wait_content(&c, "[data-client-title]", "Client 01500").await;
    find(&c, "[data-inherited=\"client.c01500.host\"]").await;
    let chosen = active_option(&c).await;
    assert_eq!(chosen["selected"], json!("true"), "{chosen}");
    assert_focus(&c, "[data-client-list]", "after choosing a client").await;

    // Shift+Tab back to the search; a search for nothing leaves no empty listbox.
    shift_tab(&c).await;
    assert_focus(&c, "[data-clients-search]", "Shift+Tab from the list").await;
    type_keys(&c, "nobody").await;
    find(&c, "[data-clients-empty]").await;
    let listbox = c.execute("return document.querySelectorAll('[role=listbox]').length", vec![]).await.unwrap();
    assert_eq!(listbox, json!(0), "no listbox without options");
    assert_focus(&c, "[data-clients-search]", "typing a search").await;
    c.close().await.unwrap();
}

#[tokio::test]
async fn keyboard_only_a_route_is_added_and_its_settings_get_the_focus() {
    require_window();
    let data = data_with(3, closed_port(), &[("ceo", "ceo@example.test")]);
    let home = tempfile::tempdir().unwrap();
    let driver = TauriDriver::start(data.path(), home.path());
    let c = driver.session().await;
    find(&c, "[data-ready=\"true\"]").await;

    tab_to(&c, "[data-view=\"routes\"]", 10).await;
    press(&c, &[Key::Enter]).await;
    find(&c, "[data-route=\"ceo\"]").await;
    tab_to(&c, "[data-new-route-name]", 30).await;
    type_keys(&c, "billing").await;
    press(&c, &[Key::Tab]).await;
    assert_focus(&c, "[data-new-route-from]", "Tab from the route name").await;
    type_keys(&c, "*@billing.example.test").await;
    press(&c, &[Key::Tab]).await;
    assert_focus(&c, "[data-route-add] button[type=\"submit\"]", "Tab from the From pattern").await;
    press(&c, &[Key::Enter]).await;
    find(&c, "[data-route=\"billing\"]").await;
    // The Add button is disabled again: the focus goes to the new route's settings.
    assert_focus(&c, "[data-route-editor-title]", "after adding a route").await;
    wait_content(&c, "[data-route-editor-title]", "billing").await;
    let saved = std::fs::read_to_string(data.path().join("config.json")).unwrap();
    assert!(saved.contains("*@billing.example.test"), "saved: {saved}");
    // Tab goes on into that route's fields.
    press(&c, &[Key::Tab]).await;
    let inside = c
        .execute("const t = document.querySelector('[data-route-editor-title]'); return !!t && t.parentElement.contains(document.activeElement) && document.activeElement !== t", vec![])
        .await
        .unwrap();
    assert_eq!(inside, json!(true), "Tab after the title goes into the route's settings: {}", focused(&c).await);

    // Removing a route by keyboard: Escape in the confirmation goes back to its Remove… button.
    tab_to(&c, "[data-route-remove=\"billing\"]", 80).await;
    press(&c, &[Key::Enter]).await;
    find(&c, "#remove-route-dialog").await;
    assert_focus(&c, "#remove-route-dialog button", "the remove dialog opens").await;
    press(&c, &[Key::Escape]).await;
    wait_gone(&c, "#remove-route-dialog").await;
    assert_focus(&c, "[data-route-remove=\"billing\"]", "Escape in the remove dialog").await;
    c.close().await.unwrap();
}

#[tokio::test]
async fn keyboard_only_export_and_import_end_on_the_buttons_that_opened_them() {
    require_window();
    let data = data_with(2, closed_port(), &[]);
    let home = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir().unwrap();
    // A file from another machine to import.
    let other = tempfile::tempdir().unwrap();
    postdesk_tests::configure(other.path(), &[("global.enabled", "true"), ("global.host", "smtp.other.test"), ("global.port", "2525"), ("global.sender.address", "it@example.test")]);
    let incoming = files.path().join("other.json");
    let r = postdesk_tests::postdesk(other.path(), &["export", incoming.to_str().unwrap()], None);
    assert_eq!(r.code, 0, "{r:?}");

    let driver = TauriDriver::start(data.path(), home.path());
    let c = driver.session().await;
    find(&c, "[data-ready=\"true\"]").await;

    // Export: Escape gives the focus back to Export… (it fell to the page body before).
    tab_to(&c, "#export-open", 12).await;
    press(&c, &[Key::Enter]).await;
    find(&c, "#export-dialog").await;
    assert_focus(&c, "[data-export-with-secrets]", "the export dialog opens").await;
    press(&c, &[Key::Escape]).await;
    wait_gone(&c, "#export-dialog").await;
    assert_focus(&c, "#export-open", "Escape in the export dialog").await;

    // Focus stays inside the dialog: Tab and Shift+Tab wrap around.
    press(&c, &[Key::Enter]).await;
    find(&c, "#export-dialog").await;
    assert_focus(&c, "[data-export-with-secrets]", "the export dialog opens again").await;
    shift_tab(&c).await;
    assert_focus(&c, "#export-confirm", "Shift+Tab from the first control").await;
    press(&c, &[Key::Tab]).await;
    assert_focus(&c, "[data-export-with-secrets]", "Tab from the last control").await;
    // Cancel by keyboard.
    press(&c, &[Key::Tab]).await;
    assert_focus(&c, "#export-cancel", "Tab to Cancel").await;
    press(&c, &[Key::Enter]).await;
    wait_gone(&c, "#export-dialog").await;
    assert_focus(&c, "#export-open", "Cancel in the export dialog").await;

    // Export for real (without secrets): back on Export…, the file written.
    let exported = files.path().join("exported.json");
    answer_dialog(home.path(), &exported);
    press(&c, &[Key::Enter]).await;
    find(&c, "#export-dialog").await;
    tab_to(&c, "#export-confirm", 4).await;
    press(&c, &[Key::Enter]).await;
    wait_gone(&c, "#export-dialog").await;
    wait_content(&c, "#status", "Exported to").await;
    assert_focus(&c, "#export-open", "after exporting").await;
    let text = std::fs::read_to_string(&exported).unwrap();
    assert!(text.contains("127.0.0.1"), "{text}");

    // Import: the preview opens on Apply; Escape goes back to Import….
    press(&c, &[Key::Tab]).await;
    assert_focus(&c, "#import-open", "Tab from Export…").await;
    answer_dialog(home.path(), &incoming);
    press(&c, &[Key::Enter]).await;
    find(&c, "#import-preview").await;
    assert_focus(&c, "#import-apply", "the import preview opens").await;
    press(&c, &[Key::Escape]).await;
    wait_gone(&c, "#import-preview").await;
    assert_focus(&c, "#import-open", "Escape in the import preview").await;
    // Again, and Enter applies it.
    answer_dialog(home.path(), &incoming);
    press(&c, &[Key::Enter]).await;
    find(&c, "#import-preview").await;
    assert_focus(&c, "#import-apply", "the import preview opens again").await;
    press(&c, &[Key::Enter]).await;
    wait_gone(&c, "#import-preview").await;
    wait_content(&c, "#status", "Imported").await;
    assert_focus(&c, "#import-open", "after importing").await;
    let saved = std::fs::read_to_string(data.path().join("config.json")).unwrap();
    assert!(saved.contains("smtp.other.test"), "imported: {saved}");
    c.close().await.unwrap();
}
