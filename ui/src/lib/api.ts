// Every call from the window to the outside. The backend commands are generated from their
// Rust declaration (bindings/commands.ts, from src-tauri/src/command_list.rs: `make bindings`)
// and re-exported here; this module adds what is not a command: the window itself, the app
// menu, dropped files, UI preferences with their start-up shortcut, the clipboard. Components
// import this module only; tests mock it (`vi.mock('./api')` mocks the commands too).

import { invoke as tauriInvoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import * as commands from './bindings/commands';
import type { ScopeForm } from './bindings/ScopeForm';
import type { TemplateView } from './bindings/TemplateView';
import { inTauri } from './ipc';

export * from './bindings/commands';
export type { ChosenFile } from './bindings/ChosenFile';

/** Saves edits of one client or route (`""` resets a key to inherited); its secrets are not edited here. */
export function saveScope(prefix: string, edits: Record<string, string>): Promise<ScopeForm> {
  return commands.saveScope(prefix, edits, []);
}

/** Every invitation template, built-in user types first; with a client ID, the texts in force for that client. */
export function templates(client?: string): Promise<TemplateView[]> {
  return commands.templates(client ?? null);
}

/** Back to the built-in texts (saved at once); with a client ID, removes its override ("Reset to inherited"). */
export function resetTemplate(kind: string, client?: string): Promise<TemplateView> {
  return commands.resetTemplate(kind, client ?? null);
}

// --- The app menu and dropped files -----------------------------------------------------

/** The items of the native File menu: the Rust side emits `menu` with one of these. */
export type MenuItem = 'export' | 'import' | 'undo-import';

/** Calls `handler` when the admin picks an item of the app menu. Returns the function that stops listening. */
export async function onMenu(handler: (item: string) => void): Promise<() => void> {
  if (!inTauri()) return () => {};
  return listen<string>('menu', (event) => handler(event.payload));
}

/**
 * A file dragged over the window: `enter`/`over` while dragging, `leave`, and `drop` with the
 * dropped file as the Rust side recorded it (an id to open it by, and its name: the page never
 * gets a path to hand back).
 */
export type DragDrop =
  | { type: 'enter'; paths: string[] }
  | { type: 'over' }
  | { type: 'drop'; id: string; name: string }
  | { type: 'leave' };

/** Calls `handler` while files are dragged over the window and when they are dropped. */
export async function onDragDrop(handler: (event: DragDrop) => void): Promise<() => void> {
  if (!inTauri()) return () => {};
  // What `getCurrentWebview().onDragDropEvent` does, without the `Webview` and `Window`
  // classes of @tauri-apps/api (~5 KiB gzip of which the UI used three methods).
  const target = { kind: 'Webview', label: metadata().currentWebview.label } as const;
  type Paths = { paths: string[] };
  const stop = await Promise.all([
    listen<Paths>('tauri://drag-enter', (e) => handler({ type: 'enter', paths: e.payload.paths }), { target }),
    listen('tauri://drag-over', () => handler({ type: 'over' }), { target }),
    listen('tauri://drag-drop', () => handler({ type: 'leave' }), { target }),
    listen<{ id: string; name: string }>('dropped', (e) => handler({ type: 'drop', id: e.payload.id, name: e.payload.name })),
    listen('tauri://drag-leave', () => handler({ type: 'leave' }), { target }),
  ]);
  return () => stop.forEach((f) => f());
}

/** The labels of this window and its webview (set by Tauri before the page runs). */
function metadata(): { currentWindow: { label: string }; currentWebview: { label: string } } {
  return (window as unknown as { __TAURI_INTERNALS__: { metadata: ReturnType<typeof metadata> } }).__TAURI_INTERNALS__.metadata;
}

// --- The window -------------------------------------------------------------------------

export interface CloseRequest {
  preventDefault(): void;
}

/**
 * Calls `handler` when the admin closes the window. Unless the handler calls
 * `preventDefault()`, the window then closes. Returns the function that stops listening.
 */
export async function onCloseRequested(handler: (event: CloseRequest) => void | Promise<void>): Promise<() => void> {
  if (!inTauri()) return () => {};
  // What `getCurrentWindow().onCloseRequested` does (see onDragDrop).
  const target = { kind: 'Window', label: metadata().currentWindow.label } as const;
  return listen('tauri://close-requested', async () => {
    let prevented = false;
    await handler({ preventDefault: () => (prevented = true) });
    if (!prevented) await destroyWindow();
  }, { target });
}

/** Closes the window without asking again. */
export async function destroyWindow(): Promise<void> {
  if (!inTauri()) return;
  await tauriInvoke('plugin:window|destroy', { label: metadata().currentWindow.label });
}

// --- UI preferences (Postdesk's own get_pref/set_pref, a fixed list of keys) -------------

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timed out')), ms);
    promise.then(
      (v) => (clearTimeout(timer), resolve(v)),
      (e) => (clearTimeout(timer), reject(e)),
    );
  });
}

/**
 * The preferences the first frame needs (the last section), as the window found them when it
 * opened (src-tauri/src/gui.rs puts them into the page before it loads): reading them from
 * the store would cost two round trips, ~190 ms at start-up (README "Performance").
 */
const atStart = new Map<string, unknown>(
  Object.entries((globalThis as { __POSTDESK_START__?: Record<string, unknown> }).__POSTDESK_START__ ?? {}),
);

/** A remembered preference, or `undefined` when there is none or the store is unavailable. */
export async function getPref(key: string): Promise<unknown> {
  if (!inTauri()) return undefined;
  if (atStart.has(key)) return atStart.get(key);
  try {
    return (await withTimeout(commands.getPref(key), 1500)) ?? undefined;
  } catch (e) {
    console.warn('postdesk: preferences unavailable:', e);
    return undefined;
  }
}

export async function setPref(key: string, value: string): Promise<void> {
  if (!inTauri()) return;
  atStart.delete(key);
  try {
    await withTimeout(commands.setPref(key, value), 1500);
  } catch (e) {
    console.warn('postdesk: preference not saved:', e);
  }
}

// --- Clipboard --------------------------------------------------------------------------

/** Copies text; false when the clipboard refused (the caller then lets the admin copy by hand). */
export async function copyText(text: string): Promise<boolean> {
  try {
    if (!navigator.clipboard) return false;
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}
