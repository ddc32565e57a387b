// Pure logic of exporting and importing configuration files: the passphrase rules, the
// change list of an import preview, paths. No DOM, no backend.

import type { Change } from './bindings/Change';
import type { ChangeKind } from './bindings/ChangeKind';
import type { Problem } from './bindings/Problem';
import type { Failure } from './errors';
import { plural } from './form';

/** The name the save dialog proposes. */
export const EXPORT_FILE_NAME = 'postdesk-config.json';
export const FILE_FILTERS = [{ name: 'Postdesk configuration', extensions: ['json'] }];
/** Preference key: the folder of the last file exported or imported. */
export const LAST_FOLDER_PREF = 'lastFolder';
export const MIN_PASSPHRASE = 8;

// --- Passphrase ------------------------------------------------------------------------

export interface PassphraseCheck {
  /** What is wrong with the passphrase, or null. */
  passphrase: string | null;
  /** What is wrong with the repetition, or null. */
  confirm: string | null;
  ok: boolean;
}

/** The export passphrase: at least `MIN_PASSPHRASE` characters, typed the same twice. */
export function checkPassphrase(passphrase: string, confirm: string): PassphraseCheck {
  const length = [...passphrase].length;
  const first =
    length === 0
      ? 'Type a passphrase.'
      : length < MIN_PASSPHRASE
        ? `Use at least ${MIN_PASSPHRASE} characters (${length} so far).`
        : null;
  const second = confirm === '' ? 'Type the passphrase again.' : confirm !== passphrase ? 'The passphrases do not match.' : null;
  return { passphrase: first, confirm: second, ok: first === null && second === null };
}

// --- Paths -----------------------------------------------------------------------------

/** The last part of a path (`/a/b/c.json` → `c.json`, `C:\a\c.json` → `c.json`). */
export function fileName(path: string): string {
  const trimmed = path.replace(/[\\/]+$/, '');
  const i = Math.max(trimmed.lastIndexOf('/'), trimmed.lastIndexOf('\\'));
  return i < 0 ? trimmed : trimmed.slice(i + 1);
}

/**
 * The folder a file is in (`/a/b/c.json` → `/a/b`, `C:\a\c.json` → `C:\a`, `/c.json` → `/`,
 * `C:\c.json` → `C:\`), or null when the path names no folder.
 */
export function folderOf(path: string): string | null {
  const i = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  if (i < 0) return null;
  const folder = path.slice(0, i);
  if (folder === '') return path[0]; // the root: "/" (or "\")
  if (/^[A-Za-z]:$/.test(folder)) return folder + path[i]; // a drive root: "C:\"
  return folder;
}

/** A file in a folder, with the folder's own separator. */
export function joinPath(folder: string, name: string): string {
  const sep = folder.includes('\\') && !folder.includes('/') ? '\\' : '/';
  return /[\\/]$/.test(folder) ? folder + name : folder + sep + name;
}

/** The path the save dialog starts with: the proposed name in the last folder used. */
export function exportDefaultPath(lastFolder: unknown): string {
  return typeof lastFolder === 'string' && lastFolder !== '' ? joinPath(lastFolder, EXPORT_FILE_NAME) : EXPORT_FILE_NAME;
}

/** The folder the open dialog starts in, if one is remembered. */
export function importDefaultPath(lastFolder: unknown): string | undefined {
  return typeof lastFolder === 'string' && lastFolder !== '' ? lastFolder : undefined;
}

/** Whether a dropped file can be a configuration file. */
export function isConfigFile(path: string): boolean {
  return /\.json$/i.test(path.trim());
}

// --- The preview of an import ----------------------------------------------------------

export const KIND_ORDER: readonly ChangeKind[] = ['added', 'changed', 'removed', 'secret_set'];

const KIND_LABEL: Record<ChangeKind, string> = {
  added: 'Added',
  changed: 'Changed',
  removed: 'Removed',
  secret_set: 'Secret',
};

const KIND_HEADING: Record<ChangeKind, string> = {
  added: 'New settings',
  changed: 'Changed settings',
  removed: 'Removed settings',
  secret_set: 'Secrets to store in the keychain',
};

/** The badge of a change's kind. */
export function kindLabel(kind: ChangeKind): string {
  return KIND_LABEL[kind] ?? kind;
}

export function kindHeading(kind: ChangeKind): string {
  return KIND_HEADING[kind] ?? kind;
}

/** Keys in a natural order: `global.*` before `support.*` before the rest, then by name. */
function keyRank(key: string): number {
  if (key.startsWith('global.')) return 0;
  if (key.startsWith('support.')) return 1;
  if (key.startsWith('clients.') || key.startsWith('clients[')) return 2;
  if (key.startsWith('routes.') || key.startsWith('routes[')) return 3;
  return 4;
}

export function compareKeys(a: string, b: string): number {
  return keyRank(a) - keyRank(b) || a.localeCompare(b, 'en', { numeric: true });
}

/** The changes by key (the kind decides only between two changes of one key). */
export function sortChanges(changes: readonly Change[]): Change[] {
  return [...changes].sort((a, b) => compareKeys(a.key, b.key) || KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind));
}

export interface ChangeGroup {
  kind: ChangeKind;
  heading: string;
  changes: Change[];
}

/** The changes grouped by kind (added, changed, removed, secrets), each group by key. Empty groups are left out. */
export function groupChanges(changes: readonly Change[]): ChangeGroup[] {
  const sorted = sortChanges(changes);
  const known = KIND_ORDER.map((kind) => ({ kind, heading: kindHeading(kind), changes: sorted.filter((c) => c.kind === kind) }));
  // A kind this window does not know yet still shows.
  const other = [...new Set(sorted.map((c) => c.kind).filter((k) => !KIND_ORDER.includes(k)))].map((kind) => ({
    kind,
    heading: kindHeading(kind),
    changes: sorted.filter((c) => c.kind === kind),
  }));
  return [...known, ...other].filter((g) => g.changes.length > 0);
}

/** How a value shows in the preview: `(not set)` for none, `""` for an empty text. */
export function shownValue(value: string | null): string {
  if (value === null) return '(not set)';
  if (value === '') return '""';
  return value;
}

export interface ChangeView {
  /** The value before, shown struck through; null when there is none to show. */
  old: string | null;
  /** The value after; null when there is none to show. */
  new: string | null;
  /** Words instead of values (a secret, a removal). */
  note: string | null;
}

/** What a change row shows. A secret's value is never part of it. */
export function changeView(c: Change): ChangeView {
  switch (c.kind) {
    case 'secret_set':
      return { old: null, new: null, note: 'will be set' };
    case 'added':
      return { old: null, new: shownValue(c.new), note: null };
    case 'removed':
      return { old: shownValue(c.old), new: null, note: 'will be removed' };
    default:
      return { old: shownValue(c.old), new: shownValue(c.new), note: null };
  }
}

/** A change in words, for screen readers and summaries (never a secret's value). */
export function changeText(c: Change): string {
  const v = changeView(c);
  switch (c.kind) {
    case 'secret_set':
      return `${c.key}: will be set`;
    case 'added':
      return `${c.key}: added, ${v.new}`;
    case 'removed':
      return `${c.key}: ${v.old}, will be removed`;
    default:
      return `${c.key}: ${v.old} → ${v.new}`;
  }
}

/** "3 changes": the count in the preview's summary and after applying. */
export function countChanges(changes: readonly Change[]): string {
  return plural(changes.length, 'change');
}

export function importedText(changes: number): string {
  return `Imported: ${plural(changes, 'change')}`;
}

export function missingSecretsText(keys: readonly string[]): string {
  return `Set ${keys.length === 1 ? 'this' : 'these'} after importing: ${keys.join(', ')}`;
}

// --- Problems --------------------------------------------------------------------------

/** `key: message`, as the backend words a problem. */
export function problemLine(p: Problem): string {
  return p.key ? `${p.key}: ${p.message}` : p.message;
}

/** The key the backend files problems with the encrypted secrets (and their passphrase) under. */
export const ENCRYPTED_KEY = 'secrets.encrypted';

/**
 * Whether a failed import only needs another passphrase: the file is fine, but the passphrase
 * is wrong or missing. Anything else (damaged secrets, invalid settings) is not retried.
 */
export function isPassphraseProblem(problems: readonly Problem[]): boolean {
  return problems.length > 0 && problems.every((p) => p.key === ENCRYPTED_KEY && /passphrase/i.test(p.message));
}

/** The passphrase dialog's message for a refused passphrase. */
export function passphraseErrorText(failure: Pick<Failure, 'message' | 'problems'>): string {
  const p = failure.problems.find((q) => q.key === ENCRYPTED_KEY);
  const message = (p?.message ?? failure.message).trim();
  if (/wrong passphrase/i.test(message)) return 'Wrong passphrase. Try again.';
  return message.charAt(0).toUpperCase() + message.slice(1);
}
