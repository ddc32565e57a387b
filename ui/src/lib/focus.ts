// Where the focus goes back to when a dialog closes (Modal.svelte). The opener is the control
// that had the focus before the dialog opened; it cannot simply be read when the dialog
// mounts: the window makes the page `inert` as soon as a dialog is asked for, and a browser
// then takes the focus off the control (to the body) before the dialog's own code runs.
// So the last element focused outside any dialog is recorded as it happens.

const DIALOG = '[role="dialog"], [role="alertdialog"]';

let lastOutside: HTMLElement | null = null;
let tracking = false;

function onFocusIn(e: FocusEvent) {
  const t = e.target;
  if (t instanceof HTMLElement && t !== document.body && !t.closest(DIALOG)) lastOutside = t;
}

/** Starts recording the focused control outside dialogs (once; App.svelte calls it). */
export function trackFocus(): void {
  if (tracking) return;
  tracking = true;
  document.addEventListener('focusin', onFocusIn, true);
}

/** The control a dialog opening now should give the focus back to: the focused one, else the last one focused outside a dialog. */
export function currentOpener(): HTMLElement | null {
  const active = document.activeElement;
  if (active instanceof HTMLElement && active !== document.body && !active.closest(DIALOG)) return active;
  return lastOutside && lastOutside.isConnected ? lastOutside : null;
}

/** Can take the focus now: in the page, not disabled, not inside an inert part, not hidden. */
export function focusable(el: HTMLElement | null): el is HTMLElement {
  if (!el || !el.isConnected) return false;
  if ((el as HTMLButtonElement).disabled) return false;
  if (el.closest('[inert]')) return false;
  if (el.closest('[hidden]')) return false;
  return true;
}

/**
 * Gives the focus back: to `opener` when it can take it, else to the first of `fallbacks`
 * (selectors) that can. Returns the element focused, or null.
 */
export function returnFocus(opener: HTMLElement | null, fallbacks: readonly string[] = []): HTMLElement | null {
  const candidates = [opener, ...fallbacks.map((s) => document.querySelector<HTMLElement>(s))];
  for (const el of candidates) {
    if (!focusable(el)) continue;
    el.focus();
    if (document.activeElement === el) return el;
  }
  return null;
}

/**
 * [`returnFocus`], retried while nothing can take the focus yet (the opener is still disabled
 * while the work the dialog started finishes, e.g. undoing an import) for up to `ms`; gives up
 * as soon as something else has the focus or `stop()` says so (another dialog opened).
 */
export function returnFocusWhenReady(
  opener: HTMLElement | null,
  fallbacks: readonly string[],
  stop: () => boolean,
  ms = 3000,
  every = 50,
): void {
  const until = Date.now() + ms;
  const attempt = () => {
    if (stop()) return;
    const a = document.activeElement;
    if (a instanceof HTMLElement && a !== document.body) return;
    if (returnFocus(opener, fallbacks)) return;
    if (Date.now() < until) setTimeout(attempt, every);
  };
  attempt();
}

/** For tests: forget the recorded control. */
export function resetFocusTracking(): void {
  lastOutside = null;
}
