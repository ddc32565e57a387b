// Pure logic of the settings form: drafts, edits, secrets, problems. No DOM, no backend.

import type { Problem } from './bindings/Problem';
import type { SecretChange } from './bindings/SecretChange';
import { FIELDS, fieldFor, SECTIONS, type FieldDef, type Lookup, type SectionId } from './fields';

/** What the admin has typed: key → raw text, `""` = unset. Starts as a copy of `Form.values`. */
export type Draft = Record<string, string>;

/** A secret in the window: kept as is, being replaced by a typed value, or to be cleared. */
export interface SecretDraft {
  mode: 'keep' | 'replace' | 'clear';
  value: string;
}

export const keepSecret = (): SecretDraft => ({ mode: 'keep', value: '' });

/** The value in force for `key`: the draft's text, else the backend's default. */
export function effective(draft: Draft, defaults: Record<string, string>, key: string): string {
  const v = draft[key] ?? '';
  return v !== '' ? v : (defaults[key] ?? '');
}

export function lookup(draft: Draft, defaults: Record<string, string>): Lookup {
  return (key) => effective(draft, defaults, key);
}

export function isTrue(value: string): boolean {
  return ['true', 'yes', 'on', '1'].includes(value.trim().toLowerCase());
}

/** The keys whose draft differs from the saved value, with the draft's text. */
export function computeEdits(saved: Record<string, string>, draft: Draft): Record<string, string> {
  const edits: Record<string, string> = {};
  for (const [key, value] of Object.entries(draft)) {
    if (value !== (saved[key] ?? '')) edits[key] = value;
  }
  return edits;
}

/**
 * The draft after choosing `value` for a switch, select or radio. When the choice is what the
 * saved settings already mean (`""` with default `25`, choosing `25`), the saved text is kept,
 * so toggling back and forth leaves nothing unsaved.
 */
export function choose(
  saved: Record<string, string>,
  defaults: Record<string, string>,
  draft: Draft,
  key: string,
  value: string,
): Draft {
  const savedRaw = saved[key] ?? '';
  const next = effective(saved, defaults, key) === value ? savedRaw : value;
  return { ...draft, [key]: next };
}

/** The secret changes to send: typed values and clears. An empty replacement changes nothing. */
export function secretChanges(secrets: Record<string, SecretDraft>): SecretChange[] {
  const changes: SecretChange[] = [];
  for (const [key, s] of Object.entries(secrets)) {
    if (s.mode === 'clear') changes.push({ key, value: null });
    else if (s.mode === 'replace' && s.value !== '') changes.push({ key, value: s.value });
  }
  return changes;
}

export function isDirty(saved: Record<string, string>, draft: Draft, secrets: Record<string, SecretDraft>): boolean {
  return Object.keys(computeEdits(saved, draft)).length > 0 || secretChanges(secrets).length > 0;
}

export function isBlocking(p: Problem): boolean {
  return p.severity !== 'warning';
}

const RANK = { error: 0, missing: 1, warning: 2 } as const;

/** Problems by key, the most severe first. */
export function problemsByKey(problems: readonly Problem[]): Map<string, Problem[]> {
  const map = new Map<string, Problem[]>();
  for (const p of problems) {
    const list = map.get(p.key) ?? [];
    if (!list.some((q) => q.severity === p.severity && q.message === p.message)) list.push(p);
    map.set(p.key, list);
  }
  for (const list of map.values()) list.sort((a, b) => RANK[a.severity] - RANK[b.severity]);
  return map;
}

export function applies(field: FieldDef, get: Lookup): boolean {
  return field.applies ? field.applies(get) : true;
}

/** The fields shown in a section for the current values. */
export function visibleFields(section: SectionId, get: Lookup): FieldDef[] {
  return FIELDS.filter((f) => f.section === section && applies(f, get));
}

export function isVisibleKey(key: string, get: Lookup): boolean {
  const f = fieldFor(key);
  return !!f && applies(f, get);
}

export interface SectionCount {
  blocking: number;
  warnings: number;
}

/** Problems per section, counting only fields that the section currently shows. */
export function sectionCounts(problems: readonly Problem[], get: Lookup): Record<SectionId, SectionCount> {
  const counts = Object.fromEntries(SECTIONS.map((s) => [s.id, { blocking: 0, warnings: 0 }])) as Record<
    SectionId,
    SectionCount
  >;
  for (const p of problems) {
    const f = fieldFor(p.key);
    if (!f || !applies(f, get)) continue;
    if (isBlocking(p)) counts[f.section].blocking++;
    else counts[f.section].warnings++;
  }
  return counts;
}

/** Problems of keys this window edits that block saving (hidden fields included). */
export function blockingProblems(problems: readonly Problem[]): Problem[] {
  return problems.filter((p) => isBlocking(p) && fieldFor(p.key) !== undefined);
}

/**
 * Problems this window cannot show under a field: on a field hidden by the current
 * authentication (still saved, so still checked), or on keys outside the window
 * (clients and routes, edited with the command line).
 */
export function unplacedProblems(problems: readonly Problem[], get: Lookup): { hidden: Problem[]; elsewhere: Problem[] } {
  const hidden: Problem[] = [];
  const elsewhere: Problem[] = [];
  for (const p of problems) {
    // An invalid policy has a banner of its own (Banners, `saved`).
    if (p.key === 'policy') continue;
    const f = fieldFor(p.key);
    if (!f) elsewhere.push(p);
    else if (!applies(f, get)) hidden.push(p);
  }
  return { hidden, elsewhere };
}

export const plural = (n: number, one: string, many = one + 's'): string => `${n} ${n === 1 ? one : many}`;

export interface StatusInput {
  loading: boolean;
  saving: boolean;
  dirty: boolean;
  justSaved: boolean;
  blocking: number;
  /** What the last export, import or undo did ("Imported: 3 changes"): said instead of the state of the edits. */
  note?: string | null;
}

/** The status line: the most useful thing to say right now. */
export function statusText(s: StatusInput): string {
  if (s.loading) return 'Loading…';
  if (s.saving) return 'Saving…';
  if (s.note) return s.blocking > 0 ? `${s.note} · ${plural(s.blocking, 'problem')} to fix` : s.note;
  if (s.blocking > 0) return `${plural(s.blocking, 'problem')} to fix`;
  if (s.dirty) return 'Unsaved changes';
  if (s.justSaved) return 'Saved';
  return 'No unsaved changes';
}

/**
 * Problems after a failed save: the backend's (the blocking ones of this window's keys), plus
 * what was already known that a save does not report: warnings and other keys' problems.
 */
export function mergeProblems(known: readonly Problem[], fromSave: readonly Problem[]): Problem[] {
  const same = (a: Problem, b: Problem) => a.key === b.key && a.severity === b.severity && a.message === b.message;
  const out = [...fromSave];
  for (const p of known) {
    const reportedBySave = isBlocking(p) && fieldFor(p.key) !== undefined;
    if (!reportedBySave && !out.some((q) => same(p, q))) out.push(p);
  }
  return out;
}
