// Every call from the window to the outside: backend commands, the window itself, the app
// menu, file dialogs and dropped files, UI preferences, the clipboard. Tests mock this module.

import { Channel, invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import type { ClientRow } from './bindings/ClientRow';
import type { Explanation } from './bindings/Explanation';
import type { Form } from './bindings/Form';
import type { ImportPreview } from './bindings/ImportPreview';
import type { Preset } from './bindings/Preset';
import type { Problem } from './bindings/Problem';
import type { Progress } from './bindings/Progress';
import type { Report } from './bindings/Report';
import type { RouteRow } from './bindings/RouteRow';
import type { ScopeForm } from './bindings/ScopeForm';
import type { SupportDraft } from './bindings/SupportDraft';
import type { SupportPreview } from './bindings/SupportPreview';
import type { SecretChange } from './bindings/SecretChange';
import type { SignInStatus } from './bindings/SignInStatus';

/** A file chosen for import (read once by the Rust side, which keeps its bytes under `token`). */
export interface ChosenFile {
  token: string;
  name: string;
  needs_passphrase: boolean;
}

export interface Backend {
  loadForm(): Promise<Form>;
  preview(edits: Record<string, string>, secrets: SecretChange[]): Promise<Problem[]>;
  /** Rejects with `{ message, problems }` when nothing was saved. */
  save(edits: Record<string, string>, secrets: SecretChange[]): Promise<Form>;
  /**
   * Sends a test mail with the saved settings plus these edits and secret changes (nothing is
   * saved). Resolves with the report whether the mail went out or not; rejects only when the
   * test could not run at all.
   */
  testMail(
    edits: Record<string, string>,
    secrets: SecretChange[],
    to: string,
    onProgress: (p: Progress) => void,
  ): Promise<Report>;
  /** Stops the running test; it then resolves with a failed report ("Cancelled"). */
  cancelTestMail(): Promise<void>;
  /**
   * Asks where to (a native dialog on the Rust side), then writes the saved settings there;
   * with a passphrase the secrets too, encrypted, else the file only names them. Resolves with
   * the path written, or null when the admin cancelled. Rejects with `{ message, problems }`.
   */
  exportConfig(passphrase: string | null): Promise<string | null>;
  /** Asks which file to import (a native dialog) and reads it once; null when cancelled. */
  chooseImport(): Promise<ChosenFile | null>;
  /** Reads a file dropped on the window (named by the id of its `dropped` event) for import. */
  openDropped(id: string): Promise<ChosenFile>;
  /** What importing the chosen file would change; nothing is changed. Rejects with `{ message, problems }`. */
  previewImport(token: string, passphrase: string | null): Promise<ImportPreview>;
  /**
   * Imports exactly the previewed bytes; resolves with the new form. Changes of where stored
   * secrets go (the preview's `redirects`) need `allowRedirect`. Rejects with `{ message, problems }`.
   */
  applyImport(token: string, passphrase: string | null, allowRedirect: boolean): Promise<Form>;
  /** Restores the settings (and secrets) from before the last import. */
  undoImport(): Promise<Form>;
  /**
   * Logs in to the receiver mailbox with the saved settings plus these edits and secret
   * changes (nothing is saved). Resolves with the report whether the login worked or not.
   */
  receiverCheck(edits: Record<string, string>, secrets: SecretChange[], onProgress: (p: Progress) => void): Promise<Report>;
  /** Stops the running receiver check; it then resolves with a failed report ("Cancelled"). */
  cancelReceiverCheck(): Promise<void>;
  /** The provider presets ("Start from a preset"). */
  listPresets(): Promise<Preset[]>;

  /** The Microsoft 365 account signed in with the saved settings, or why none can be. */
  m365Status(): Promise<SignInStatus>;
  /**
   * Delegated sign-in with the saved settings: in an embedded login window, or through the
   * system browser. Resolves with the account, or the error and its hint.
   */
  m365SignIn(browser: boolean): Promise<SignInStatus>;
  /** Forgets the sign-in (refresh token and account leave the keychain). */
  m365SignOut(): Promise<SignInStatus>;
}

const tauri: Backend = {
  loadForm: () => invoke<Form>('load_form'),
  preview: (edits, secrets) => invoke<Problem[]>('preview', { edits, secrets }),
  save: (edits, secrets) => invoke<Form>('save', { edits, secrets }),
  testMail: (edits, secrets, to, onProgress) => {
    const channel = new Channel<Progress>();
    channel.onmessage = onProgress;
    return invoke<Report>('test_mail', { edits, secrets, to, onProgress: channel });
  },
  cancelTestMail: () => invoke<void>('cancel_test_mail'),
  exportConfig: (passphrase) => invoke<string | null>('export_config', { passphrase }),
  chooseImport: () => invoke<ChosenFile | null>('choose_import'),
  openDropped: (id) => invoke<ChosenFile>('open_dropped', { id }),
  previewImport: (token, passphrase) => invoke<ImportPreview>('preview_import', { token, passphrase }),
  applyImport: (token, passphrase, allowRedirect) => invoke<Form>('apply_import', { token, passphrase, allowRedirect }),
  undoImport: () => invoke<Form>('undo_import'),
  receiverCheck: (edits, secrets, onProgress) => {
    const channel = new Channel<Progress>();
    channel.onmessage = onProgress;
    return invoke<Report>('receiver_check', { edits, secrets, onProgress: channel });
  },
  cancelReceiverCheck: () => invoke<void>('cancel_receiver_check'),
  listPresets: () => invoke<Preset[]>('list_presets'),

  m365Status: () => invoke<SignInStatus>('m365_status'),
  m365SignIn: (browser) => invoke<SignInStatus>('m365_sign_in', { browser }),
  m365SignOut: () => invoke<SignInStatus>('m365_sign_out'),
};

function inTauri(): boolean {
  return typeof window !== 'undefined' && (window as { __TAURI_INTERNALS__?: unknown }).__TAURI_INTERNALS__ !== undefined;
}

// A plain browser during development (`npm run dev` without Tauri) gets an in-memory demo
// backend. `import.meta.env.DEV` is false in a production build, so the demo is not bundled.
let demo: Promise<Backend> | undefined;
function backend(): Backend | Promise<Backend> {
  if (import.meta.env.DEV && !inTauri()) {
    demo ??= import('./demo').then((m) => m.createDemoBackend());
    return demo;
  }
  return tauri;
}

export async function loadForm(): Promise<Form> {
  return (await backend()).loadForm();
}

export async function preview(edits: Record<string, string>, secrets: SecretChange[]): Promise<Problem[]> {
  return (await backend()).preview(edits, secrets);
}

export async function save(edits: Record<string, string>, secrets: SecretChange[]): Promise<Form> {
  return (await backend()).save(edits, secrets);
}

export async function testMail(
  edits: Record<string, string>,
  secrets: SecretChange[],
  to: string,
  onProgress: (p: Progress) => void,
): Promise<Report> {
  return (await backend()).testMail(edits, secrets, to, onProgress);
}

export async function m365Status(): Promise<SignInStatus> {
  return (await backend()).m365Status();
}

export async function m365SignIn(browser: boolean): Promise<SignInStatus> {
  return (await backend()).m365SignIn(browser);
}

export async function m365SignOut(): Promise<SignInStatus> {
  return (await backend()).m365SignOut();
}

export async function cancelTestMail(): Promise<void> {
  return (await backend()).cancelTestMail();
}

export async function receiverCheck(
  edits: Record<string, string>,
  secrets: SecretChange[],
  onProgress: (p: Progress) => void,
): Promise<Report> {
  return (await backend()).receiverCheck(edits, secrets, onProgress);
}

export async function cancelReceiverCheck(): Promise<void> {
  return (await backend()).cancelReceiverCheck();
}

export async function listPresets(): Promise<Preset[]> {
  return (await backend()).listPresets();
}

export async function exportConfig(passphrase: string | null): Promise<string | null> {
  return (await backend()).exportConfig(passphrase);
}

export async function chooseImport(): Promise<ChosenFile | null> {
  return (await backend()).chooseImport();
}

export async function openDropped(id: string): Promise<ChosenFile> {
  return (await backend()).openDropped(id);
}

export async function previewImport(token: string, passphrase: string | null): Promise<ImportPreview> {
  return (await backend()).previewImport(token, passphrase);
}

export async function applyImport(token: string, passphrase: string | null, allowRedirect: boolean): Promise<Form> {
  return (await backend()).applyImport(token, passphrase, allowRedirect);
}

export async function undoImport(): Promise<Form> {
  return (await backend()).undoImport();
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
  await invoke('plugin:window|destroy', { label: metadata().currentWindow.label });
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
    return (await withTimeout(invoke<unknown>('get_pref', { key }), 1500)) ?? undefined;
  } catch (e) {
    console.warn('postdesk: preferences unavailable:', e);
    return undefined;
  }
}

export async function setPref(key: string, value: string): Promise<void> {
  if (!inTauri()) return;
  atStart.delete(key);
  try {
    await withTimeout(invoke<void>('set_pref', { key, value }), 1500);
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

// --- Clients, routes, the explainer and the support request -------------------------------
// (Not in the demo backend: these need the real core.)

export async function listClients(): Promise<ClientRow[]> {
  return invoke<ClientRow[]>('list_clients');
}

export async function addClient(id: string, name: string): Promise<void> {
  return invoke<void>('add_client', { id, name });
}

export async function renameClient(id: string, name: string): Promise<void> {
  return invoke<void>('rename_client', { id, name });
}

export async function removeClient(id: string): Promise<void> {
  return invoke<void>('remove_client', { id });
}

export async function listRoutes(): Promise<RouteRow[]> {
  return invoke<RouteRow[]>('list_routes');
}

export async function addRoute(name: string, from: string): Promise<void> {
  return invoke<void>('add_route', { name, from });
}

export async function removeRoute(name: string): Promise<void> {
  return invoke<void>('remove_route', { name });
}

export async function reorderRoutes(names: string[]): Promise<void> {
  return invoke<void>('reorder_routes', { names });
}

/** One client's (`client.<ID>`) or route's (`route.<NAME>`) keys with what they inherit. */
export async function scopeForm(prefix: string): Promise<ScopeForm> {
  return invoke<ScopeForm>('scope_form', { prefix });
}

/** Saves edits of one client or route (`""` resets a key to inherited). Rejects with `{ message, problems }`. */
export async function saveScope(prefix: string, edits: Record<string, string>): Promise<ScopeForm> {
  return invoke<ScopeForm>('save_scope', { prefix, edits, secrets: [] });
}

/** Who sends a mail of `client` from `from`, and why. */
export async function explain(client: string | null, from: string | null): Promise<Explanation> {
  return invoke<Explanation>('explain', { client, from });
}

export async function supportPreview(draft: SupportDraft): Promise<SupportPreview> {
  return invoke<SupportPreview>('support_preview', { draft });
}

/** Sends exactly the previewed message; resolves with the report whether it went out or not. */
export async function sendSupport(preview: SupportPreview): Promise<Report> {
  return invoke<Report>('send_support', { preview });
}

// --- Invitation templates, Do-Not-Email list, daily limit -------------------------------
// Tauri only: the browser demo backend has no such pages (they say so when opened there).

import type { DneView } from './bindings/DneView';
import type { TemplateDraft } from './bindings/TemplateDraft';
import type { TemplatePreview } from './bindings/TemplatePreview';
import type { TemplateView } from './bindings/TemplateView';

function needTauri(): void {
  if (!inTauri()) throw { message: 'Not available in the browser demo: run the app.', problems: [] };
}

/** Every invitation template, built-in user types first; with a client ID, the texts in force for that client. */
export async function templates(client?: string): Promise<TemplateView[]> {
  needTauri();
  return invoke<TemplateView[]>('templates', { client: client ?? null });
}

/** The draft filled with the sample values, and its errors with their positions. */
export async function previewTemplate(draft: TemplateDraft): Promise<TemplatePreview> {
  needTauri();
  return invoke<TemplatePreview>('preview_template', { draft });
}

/** Saves a template (a new user type is created). Rejects with `{ message, problems }`. */
export async function saveTemplate(draft: TemplateDraft): Promise<TemplateView> {
  needTauri();
  return invoke<TemplateView>('save_template', { draft });
}

/** Back to the built-in texts (saved at once); with a client ID, removes its override ("Reset to inherited"). */
export async function resetTemplate(kind: string, client?: string): Promise<TemplateView> {
  needTauri();
  return invoke<TemplateView>('reset_template', { kind, client: client ?? null });
}

/** Removes a user type that is not built in. */
export async function removeTemplate(kind: string): Promise<boolean> {
  needTauri();
  return invoke<boolean>('remove_template', { kind });
}

/** Sends the draft, filled with the sample values, through the resolved route. */
export async function sendTemplatePreview(draft: TemplateDraft, to: string, onProgress: (p: Progress) => void): Promise<Report> {
  needTauri();
  const channel = new Channel<Progress>();
  channel.onmessage = onProgress;
  return invoke<Report>('send_template_preview', { draft, to, onProgress: channel });
}

/** The Do-Not-Email list, the daily limit and the count of the last 24 hours. */
export async function dneView(): Promise<DneView> {
  needTauri();
  return invoke<DneView>('dne_view');
}

/** Adds entries; rejects with `{ message, problems }` (nothing added) when one is invalid. */
export async function dneAdd(entries: string[]): Promise<DneView> {
  needTauri();
  return invoke<DneView>('dne_add', { entries });
}

export async function dneRemove(entries: string[]): Promise<DneView> {
  needTauri();
  return invoke<DneView>('dne_remove', { entries });
}

/** Asks for a CSV file (a native dialog) and adds its entries; null when cancelled. Rejects with the bad lines (nothing added). */
export async function dneImport(): Promise<{ added: number; file: string; view: DneView } | null> {
  needTauri();
  return invoke<{ added: number; file: string; view: DneView } | null>('dne_import');
}

/** Asks where to (a native dialog) and writes the list as CSV; null when cancelled. */
export async function dneExport(): Promise<{ count: number; file: string } | null> {
  needTauri();
  return invoke<{ count: number; file: string } | null>('dne_export');
}

/** Saves `limits.max_per_day` and `limits.ignore_dne_for`; rejects with `{ message, problems }`. */
export async function saveLimits(maxPerDay: string, ignoreDneFor: string): Promise<DneView> {
  needTauri();
  return invoke<DneView>('save_limits', { maxPerDay, ignoreDneFor });
}
