//! The settings window: one webview over the `ui/` build, state = one `Postdesk`.

use std::path::PathBuf;
use std::process::ExitCode;

use postdesk_core::{FormPrefetch, Postdesk};
use serde_json::json;
use tauri::menu::{Menu, MenuBuilder, MenuItemBuilder, SubmenuBuilder};
use tauri::{Emitter, Manager, PhysicalPosition, PhysicalSize, WebviewUrl, WebviewWindowBuilder, WindowEvent};
use tauri_plugin_store::StoreExt;

use crate::files::PREFS;

pub fn run(data_dir: PathBuf) -> ExitCode {
    run_with(data_dir, None)
}

/// `login`: `Some(client)` opens only the Microsoft sign-in window (for `postdesk login`).
pub fn run_with(data_dir: PathBuf, login: Option<Option<String>>) -> ExitCode {
    // `postdesk login` fails unless the sign-in says otherwise (closing its window ends it).
    let exit = std::sync::Arc::new(std::sync::Mutex::new(if login.is_some() { postdesk_cli::EXIT_FAILED } else { 0 }));
    let exit_in_setup = exit.clone();
    #[cfg(target_os = "linux")]
    {
        let set = |name| std::env::var_os(name).is_some_and(|v| !v.is_empty());
        if !set("DISPLAY") && !set("WAYLAND_DISPLAY") {
            eprintln!("postdesk: no display (DISPLAY and WAYLAND_DISPLAY are unset), so the window cannot open.");
            eprintln!("postdesk: run it from a desktop session, or use the command line: postdesk --help");
            return ExitCode::from(postdesk_cli::EXIT_CONFIG);
        }
    }
    // GTK reports a display it cannot open by panicking: say so in one line, not a backtrace.
    std::panic::set_hook(Box::new(|info| {
        let what = info.payload().downcast_ref::<String>().map(String::as_str).or_else(|| info.payload().downcast_ref::<&str>().copied()).unwrap_or("unknown error");
        let display = std::env::var("DISPLAY").or_else(|_| std::env::var("WAYLAND_DISPLAY")).unwrap_or_default();
        eprintln!("postdesk: the window stopped: {what} (display {display:?}); the command line works without a display: postdesk --help");
    }));
    let result = tauri::Builder::default()
        .plugin(tauri_plugin_store::Builder::new().build())
        .plugin(tauri_plugin_dialog::init())
        // The first form is read on a thread while the webview starts (core/src/prefetch.rs).
        .manage(if login.is_some() { FormPrefetch::idle() } else { FormPrefetch::start(&data_dir) })
        .manage(Postdesk::open(&data_dir))
        .manage(crate::commands::RunningTest::default())
        .manage(crate::commands::RunningReceiverCheck::default())
        .manage(crate::files::Files::default())
        // Every command of src/command_list.rs, nothing else.
        .invoke_handler(crate::commands::handler())
        .setup(move |app| {
            if let Some(client) = login.clone() {
                crate::login::run_cli_login(app.handle(), client, exit_in_setup.clone());
                return Ok(());
            }
            crate::trace::mark("setup");
            app.set_menu(app_menu(app.handle())?)?;
            open_main_window(app.handle())?;
            crate::trace::mark("window created");
            Ok(())
        })
        .on_menu_event(|app, event| {
            // The window runs the flows (dialogs, passphrase, preview): tell it which.
            let id = event.id().as_ref();
            if matches!(id, "export" | "import" | "undo-import") {
                let _ = app.emit("menu", id);
            } else if id == "quit" {
                if let Some(window) = app.get_webview_window("main") {
                    let _ = window.close();
                }
            }
        })
        .run(tauri::generate_context!());
    match result {
        Ok(()) => ExitCode::from(*exit.lock().expect("lock")),
        Err(e) => {
            eprintln!("postdesk: the window could not start: {e}");
            ExitCode::from(postdesk_cli::EXIT_FAILED)
        }
    }
}

fn app_menu(app: &tauri::AppHandle) -> tauri::Result<Menu<tauri::Wry>> {
    let file = SubmenuBuilder::new(app, "File")
        .item(&MenuItemBuilder::with_id("export", "Export…").accelerator("CmdOrCtrl+E").build(app)?)
        .item(&MenuItemBuilder::with_id("import", "Import…").accelerator("CmdOrCtrl+O").build(app)?)
        .item(&MenuItemBuilder::with_id("undo-import", "Undo last import").build(app)?)
        .separator()
        // Not the predefined Quit (disabled on Linux, and it would skip the unsaved-changes
        // prompt): closing the window asks first.
        .item(&MenuItemBuilder::with_id("quit", "Quit").accelerator("CmdOrCtrl+Q").build(app)?)
        .build()?;
    let edit = SubmenuBuilder::new(app, "Edit").undo().redo().separator().cut().copy().paste().select_all().build()?;
    MenuBuilder::new(app).item(&file).item(&edit).build()
}

fn open_main_window(app: &tauri::AppHandle) -> tauri::Result<()> {
    let prefs = app.store(PREFS).ok();
    let saved = prefs.as_ref().and_then(|s| s.get("window"));
    let num = |k: &str| saved.as_ref().and_then(|w| w.get(k)).and_then(|v| v.as_f64());
    // What the first frame needs from the preferences, in the page before it loads (read by
    // ui/src/lib/api.ts `getPref`): asking the store from the page costs two round trips.
    let last_section = prefs.as_ref().and_then(|s| s.get("lastSection")).filter(|v| v.is_string());
    let at_start = json!({ "lastSection": last_section });
    let window = WebviewWindowBuilder::new(app, "main", WebviewUrl::App("index.html".into()))
        .title("Postdesk — outgoing mail settings")
        .inner_size(1040.0, 740.0)
        .min_inner_size(760.0, 540.0)
        .initialization_script(format!(
            "Object.defineProperty(window, '__POSTDESK_START__', {{ value: Object.freeze({at_start}) }});"
        ))
        .on_page_load(|window, payload| {
            crate::trace::mark(match payload.event() {
                tauri::webview::PageLoadEvent::Started => "page load started",
                tauri::webview::PageLoadEvent::Finished => "page load finished",
            });
            if crate::trace::enabled() && matches!(payload.event(), tauri::webview::PageLoadEvent::Finished) {
                let _ = window.eval(crate::trace::PAGE_SCRIPT);
            }
        })
        .build()?;
    crate::webkit::tune(&window);
    crate::files::watch_drops(&window);
    if let (Some(w), Some(h)) = (num("width"), num("height")) {
        let _ = window.set_size(PhysicalSize::new(w.max(400.0) as u32, h.max(300.0) as u32));
    }
    if let (Some(x), Some(y)) = (num("x"), num("y")) {
        let _ = window.set_position(PhysicalPosition::new(x.max(0.0) as i32, y.max(0.0) as i32));
    }
    let handle = window.clone();
    window.on_window_event(move |event| {
        if matches!(event, WindowEvent::Resized(_) | WindowEvent::Moved(_)) {
            remember_geometry(&handle);
        }
    });
    Ok(())
}

fn remember_geometry(window: &tauri::WebviewWindow) {
    let (Ok(size), Ok(pos)) = (window.inner_size(), window.outer_position()) else { return };
    if window.is_minimized().unwrap_or(false) {
        return;
    }
    if let Ok(store) = window.app_handle().store(PREFS) {
        store.set("window", json!({"width": size.width, "height": size.height, "x": pos.x, "y": pos.y}));
    }
}
