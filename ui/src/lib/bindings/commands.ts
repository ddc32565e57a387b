// Generated from src-tauri/src/command_list.rs by `make bindings` (src-tauri/src/tsgen.rs): do not edit.
// One function per command of the window; each resolves with the command's answer or
// rejects with a `CommandError` ({ code, message, problems }; see errors.ts).

import { Channel } from '@tauri-apps/api/core';
import { invoke } from '../ipc';
import type { ChosenFile } from './ChosenFile';
import type { ClientRow } from './ClientRow';
import type { DneExported } from './DneExported';
import type { DneImported } from './DneImported';
import type { DneView } from './DneView';
import type { Explanation } from './Explanation';
import type { Form } from './Form';
import type { ImportPreview } from './ImportPreview';
import type { JsonValue } from './serde_json/JsonValue';
import type { PolicyView } from './PolicyView';
import type { Preset } from './Preset';
import type { Problem } from './Problem';
import type { Progress } from './Progress';
import type { Report } from './Report';
import type { RouteRow } from './RouteRow';
import type { ScopeForm } from './ScopeForm';
import type { SecretChange } from './SecretChange';
import type { SignInStatus } from './SignInStatus';
import type { SupportDraft } from './SupportDraft';
import type { SupportPreview } from './SupportPreview';
import type { TemplateDraft } from './TemplateDraft';
import type { TemplatePreview } from './TemplatePreview';
import type { TemplateView } from './TemplateView';

function channel<T>(onMessage: (message: T) => void): Channel<T> {
  const c = new Channel<T>();
  c.onmessage = onMessage;
  return c;
}

/** Every command, by name: what capabilities/default.json grants (one `allow-<command>` each). */
export const COMMANDS = ['load_form', 'policy', 'preview', 'save', 'test_mail', 'cancel_test_mail', 'export_config', 'choose_import', 'open_dropped', 'preview_import', 'apply_import', 'undo_import', 'list_clients', 'add_client', 'rename_client', 'remove_client', 'list_routes', 'add_route', 'remove_route', 'reorder_routes', 'scope_form', 'save_scope', 'explain', 'support_preview', 'send_support', 'receiver_check', 'cancel_receiver_check', 'templates', 'preview_template', 'save_template', 'reset_template', 'remove_template', 'send_template_preview', 'dne_view', 'dne_add', 'dne_remove', 'dne_import', 'dne_export', 'save_limits', 'list_presets', 'm365_sign_in', 'm365_status', 'm365_sign_out', 'get_pref', 'set_pref'] as const;

/**
 * The settings the window edits (`global.*`, `support.*`): values, defaults, which secrets are set, problems.
 */
export function loadForm(): Promise<Form> {
  return invoke<Form>('load_form');
}

/**
 * The organization's policy: where it comes from, what it sets and locks, and which of the
 * form's keys are locked (shown with a lock, not editable; the core refuses them anyway).
 */
export function policy(): Promise<PolicyView> {
  return invoke<PolicyView>('policy');
}

/**
 * The problems the saved settings would have with these edits and secret changes (nothing is saved).
 */
export function preview(edits: { [key in string]: string }, secrets: Array<SecretChange>): Promise<Array<Problem>> {
  return invoke<Array<Problem>>('preview', { edits, secrets });
}

/**
 * Saves the edits and secret changes; resolves with the new form. Rejects (`invalid`, with
 * the problems by key) when nothing was saved.
 */
export function save(edits: { [key in string]: string }, secrets: Array<SecretChange>): Promise<Form> {
  return invoke<Form>('save', { edits, secrets });
}

/**
 * Sends a test mail with the saved settings plus these edits and secret changes (nothing is
 * saved). Resolves with the report whether the mail went out or not; rejects only when the
 * test could not run at all.
 */
export function testMail(edits: { [key in string]: string }, secrets: Array<SecretChange>, to: string, onProgress: (message: Progress) => void): Promise<Report> {
  return invoke<Report>('test_mail', { edits, secrets, to, onProgress: channel(onProgress) });
}

/**
 * Stops the running test; it then resolves with a failed report ("Cancelled").
 */
export function cancelTestMail(): Promise<void> {
  return invoke<void>('cancel_test_mail');
}

/**
 * Asks where to (a native dialog on the Rust side), then writes the saved settings there;
 * with a passphrase the secrets too, encrypted, else the file only names them. Resolves with
 * the path written, or null when the admin cancelled.
 */
export function exportConfig(passphrase: string | null): Promise<string | null> {
  return invoke<string | null>('export_config', { passphrase });
}

/**
 * Asks which file to import (a native dialog) and reads it once; null when cancelled.
 */
export function chooseImport(): Promise<ChosenFile | null> {
  return invoke<ChosenFile | null>('choose_import');
}

/**
 * Reads a file dropped on the window (named by the id of its `dropped` event) for import.
 */
export function openDropped(id: string): Promise<ChosenFile> {
  return invoke<ChosenFile>('open_dropped', { id });
}

/**
 * What importing the chosen file (by its token) would change; nothing is changed.
 */
export function previewImport(token: string, passphrase: string | null): Promise<ImportPreview> {
  return invoke<ImportPreview>('preview_import', { token, passphrase });
}

/**
 * Imports exactly the previewed bytes (read once, when the file was chosen); resolves with
 * the new form. Changes of where stored secrets go (the preview's `redirects`) need
 * `allowRedirect`.
 */
export function applyImport(token: string, passphrase: string | null, allowRedirect: boolean): Promise<Form> {
  return invoke<Form>('apply_import', { token, passphrase, allowRedirect });
}

/**
 * Restores the settings (and secrets) from before the last import.
 */
export function undoImport(): Promise<Form> {
  return invoke<Form>('undo_import');
}

/**
 * The clients, by ID.
 */
export function listClients(): Promise<Array<ClientRow>> {
  return invoke<Array<ClientRow>>('list_clients');
}

export function addClient(id: string, name: string): Promise<void> {
  return invoke<void>('add_client', { id, name });
}

export function renameClient(id: string, name: string): Promise<void> {
  return invoke<void>('rename_client', { id, name });
}

/**
 * Removes a client and its secrets.
 */
export function removeClient(id: string): Promise<void> {
  return invoke<void>('remove_client', { id });
}

/**
 * The From-address routes in their order.
 */
export function listRoutes(): Promise<Array<RouteRow>> {
  return invoke<Array<RouteRow>>('list_routes');
}

export function addRoute(name: string, from: string): Promise<void> {
  return invoke<void>('add_route', { name, from });
}

export function removeRoute(name: string): Promise<void> {
  return invoke<void>('remove_route', { name });
}

/**
 * Puts the routes in this order (orders 10, 20, …).
 */
export function reorderRoutes(names: Array<string>): Promise<void> {
  return invoke<void>('reorder_routes', { names });
}

/**
 * One client's (`client.<ID>`) or route's (`route.<NAME>`) keys with what they inherit.
 */
export function scopeForm(prefix: string): Promise<ScopeForm> {
  return invoke<ScopeForm>('scope_form', { prefix });
}

/**
 * Saves edits of one client or route (`""` resets a key to inherited).
 */
export function saveScope(prefix: string, edits: { [key in string]: string }, secrets: Array<SecretChange>): Promise<ScopeForm> {
  return invoke<ScopeForm>('save_scope', { prefix, edits, secrets });
}

/**
 * Who sends a mail of `client` from `from`, and why.
 */
export function explain(client: string | null, from: string | null): Promise<Explanation> {
  return invoke<Explanation>('explain', { client, from });
}

/**
 * Exactly what a support request would send, and where.
 */
export function supportPreview(draft: SupportDraft): Promise<SupportPreview> {
  return invoke<SupportPreview>('support_preview', { draft });
}

/**
 * Sends exactly the previewed message; resolves with the report whether it went out or not.
 */
export function sendSupport(preview: SupportPreview): Promise<Report> {
  return invoke<Report>('send_support', { preview });
}

/**
 * Logs in to the receiver mailbox with the saved settings plus these edits and secret
 * changes (nothing is saved). Resolves with the report whether the login worked or not.
 */
export function receiverCheck(edits: { [key in string]: string }, secrets: Array<SecretChange>, onProgress: (message: Progress) => void): Promise<Report> {
  return invoke<Report>('receiver_check', { edits, secrets, onProgress: channel(onProgress) });
}

/**
 * Stops the running receiver check; it then resolves with a failed report ("Cancelled").
 */
export function cancelReceiverCheck(): Promise<void> {
  return invoke<void>('cancel_receiver_check');
}

/**
 * Every invitation template, built-in user types first; with a client ID, the texts in force for that client.
 */
export function templates(client: string | null): Promise<Array<TemplateView>> {
  return invoke<Array<TemplateView>>('templates', { client });
}

/**
 * The draft filled with the sample values, and its errors with their positions.
 */
export function previewTemplate(draft: TemplateDraft): Promise<TemplatePreview> {
  return invoke<TemplatePreview>('preview_template', { draft });
}

/**
 * Saves a template (a new user type is created).
 */
export function saveTemplate(draft: TemplateDraft): Promise<TemplateView> {
  return invoke<TemplateView>('save_template', { draft });
}

/**
 * Back to the built-in texts (saved at once); with a client ID, removes its override ("Reset to inherited").
 */
export function resetTemplate(kind: string, client: string | null): Promise<TemplateView> {
  return invoke<TemplateView>('reset_template', { kind, client });
}

/**
 * Removes a user type that is not built in.
 */
export function removeTemplate(kind: string): Promise<boolean> {
  return invoke<boolean>('remove_template', { kind });
}

/**
 * Sends the draft, filled with the sample values, through the resolved route.
 */
export function sendTemplatePreview(draft: TemplateDraft, to: string, onProgress: (message: Progress) => void): Promise<Report> {
  return invoke<Report>('send_template_preview', { draft, to, onProgress: channel(onProgress) });
}

/**
 * The Do-Not-Email list, the daily limit and the count of the last 24 hours.
 */
export function dneView(): Promise<DneView> {
  return invoke<DneView>('dne_view');
}

/**
 * Adds entries; rejects (`invalid`, nothing added) when one is invalid.
 */
export function dneAdd(entries: Array<string>): Promise<DneView> {
  return invoke<DneView>('dne_add', { entries });
}

export function dneRemove(entries: Array<string>): Promise<DneView> {
  return invoke<DneView>('dne_remove', { entries });
}

/**
 * Asks for a CSV file (a native dialog) and adds its entries; null when cancelled. Rejects
 * with the bad lines (nothing added).
 */
export function dneImport(): Promise<DneImported | null> {
  return invoke<DneImported | null>('dne_import');
}

/**
 * Asks where to (a native dialog) and writes the list as CSV; null when cancelled.
 */
export function dneExport(): Promise<DneExported | null> {
  return invoke<DneExported | null>('dne_export');
}

/**
 * Saves `limits.max_per_day` and `limits.ignore_dne_for`.
 */
export function saveLimits(maxPerDay: string, ignoreDneFor: string): Promise<DneView> {
  return invoke<DneView>('save_limits', { maxPerDay, ignoreDneFor });
}

/**
 * The provider presets ("Start from a preset").
 */
export function listPresets(): Promise<Array<Preset>> {
  return invoke<Array<Preset>>('list_presets');
}

/**
 * Delegated sign-in with the saved settings: in an embedded login window, or through the
 * system browser. Resolves with the account, or the error and its hint.
 */
export function m365SignIn(browser: boolean): Promise<SignInStatus> {
  return invoke<SignInStatus>('m365_sign_in', { browser });
}

/**
 * The Microsoft 365 account signed in with the saved settings, or why none can be.
 */
export function m365Status(): Promise<SignInStatus> {
  return invoke<SignInStatus>('m365_status');
}

/**
 * Forgets the sign-in (refresh token and account leave the keychain).
 */
export function m365SignOut(): Promise<SignInStatus> {
  return invoke<SignInStatus>('m365_sign_out');
}

/**
 * A remembered UI preference (one of a fixed list of keys), null when there is none.
 */
export function getPref(key: string): Promise<JsonValue | null> {
  return invoke<JsonValue | null>('get_pref', { key });
}

/**
 * Remembers a UI preference: a short text (one of a fixed list of keys).
 */
export function setPref(key: string, value: string): Promise<void> {
  return invoke<void>('set_pref', { key, value });
}
