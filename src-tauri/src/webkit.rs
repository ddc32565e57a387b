//! WebKitGTK settings chosen for start-up time and memory (issue 9, measured with
//! `scripts/bench-startup.sh`; figures in README "Performance").

/// Called before GTK and WebKit start (no other thread exists yet).
///
/// WebKitGTK 2.50 composites every page with OpenGL. Without a GPU (Mesa llvmpipe, the
/// common case in VMs and remote desktops) that costs ~0.4 s before the first frame and the
/// GL buffers' memory; a settings form has no animation or video that would gain from it.
/// `WEBKIT_DISABLE_COMPOSITING_MODE=1` is WebKitGTK's switch for "never accelerate" (the same
/// as `HardwareAccelerationPolicy::Never`, which can only be set once the page is already
/// loading). An admin who sets the variable keeps their choice: `0` turns compositing back
/// on (measured: the web process is then as large as before).
///
/// Without compositing, WebKitWebDriver's screenshots wait for the page's next paint, which
/// an idle page never does: the end-to-end tests' `screenshot` helper repaints for it.
pub fn before_start() {
    #[cfg(target_os = "linux")]
    if std::env::var_os("WEBKIT_DISABLE_COMPOSITING_MODE").is_none() {
        std::env::set_var("WEBKIT_DISABLE_COMPOSITING_MODE", "1");
    }
}

/// Called on a new webview: a one-page app keeps no back/forward pages and needs only a
/// small memory cache (`CacheModel::DocumentViewer`).
pub fn tune(window: &tauri::WebviewWindow) {
    #[cfg(target_os = "linux")]
    let _ = window.with_webview(|webview| {
        use webkit2gtk::{SettingsExt, WebContextExt, WebViewExt};
        let view = webview.inner();
        if let Some(context) = view.context() {
            context.set_cache_model(webkit2gtk::CacheModel::DocumentViewer);
        }
        if let Some(settings) = WebViewExt::settings(&view) {
            settings.set_enable_page_cache(false);
            // The page's start-up timings (crate::trace), only when asked for.
            settings.set_enable_write_console_messages_to_stdout(crate::trace::enabled());
        }
    });
    #[cfg(not(target_os = "linux"))]
    let _ = window;
}
