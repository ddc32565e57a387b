//! The start-up timeline for `scripts/bench-startup.sh --timeline` (README "Performance").
//!
//! Off unless `POSTDESK_STARTUP_TRACE=1`; then stderr gets one line per step, wall-clock
//! milliseconds and a step name (never a value of the configuration), and the page's own
//! timings (navigation, DOMContentLoaded, the UI's `postdesk:` performance marks, the form
//! shown) are written by WebKit to stdout.

use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

pub fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("POSTDESK_STARTUP_TRACE").is_some_and(|v| v == "1"))
}

/// `postdesk-trace <ms since the epoch> <step>` on stderr.
pub fn mark(step: &str) {
    if enabled() {
        let ms = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs_f64() * 1000.0;
        eprintln!("postdesk-trace {ms:.1} {step}");
    }
}

/// Run in the page once it has loaded: logs the page's timings (absolute, in ms since the
/// epoch) when the form is shown (`body[data-ready]`), and the next animation frame.
pub const PAGE_SCRIPT: &str = r#"(() => {
  const t = (ms) => (performance.timeOrigin + ms).toFixed(1);
  const report = () => {
    const ready = performance.now();
    requestAnimationFrame(() => {
      const raf = performance.now();
      const n = performance.getEntriesByType('navigation')[0] || {};
      const js = performance.getEntriesByType('resource').filter((r) => r.name.endsWith('.js'));
      const lines = [['navigation start', 0], ['html received', n.responseEnd], ['dom interactive', n.domInteractive],
        ['DOMContentLoaded', n.domContentLoadedEventStart], ['load event', n.loadEventStart],
        ...js.map((r) => ['script received ' + r.name.split('/').pop(), r.responseEnd]),
        ...performance.getEntriesByType('paint').map((p) => [p.name, p.startTime]),
        ...performance.getEntriesByType('mark').map((m) => [m.name, m.startTime]),
        ['form shown (data-ready)', ready], ['next animation frame', raf]];
      for (const [name, ms] of lines) if (ms !== undefined) console.log('postdesk-trace ' + t(ms) + ' page: ' + name);
    });
  };
  if (document.body.dataset.ready) report();
  else new MutationObserver((_, o) => { if (document.body.dataset.ready) { o.disconnect(); report(); } })
    .observe(document.body, { attributes: true });
})()"#;
