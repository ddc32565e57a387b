// Clients and routes in the window: filtering (fast with 10,000 clients), the visible slice
// of a virtualized list, route reordering, and which keys the client/route editor shows.
// Values, inheritance and validation come from the core (ScopeForm); this only presents.

import type { ClientRow } from './bindings/ClientRow';
import { fieldFor, type Choice } from './fields';

/** A client with its search text made once (lower-cased ID and name). */
export interface IndexedClient {
  row: ClientRow;
  hay: string;
}

export function indexClients(rows: readonly ClientRow[]): IndexedClient[] {
  return rows.map((row) => ({ row, hay: `${row.id}\u0000${row.name}`.toLowerCase() }));
}

/** Clients whose ID or name contains `query` (case-insensitive), in their order. */
export function filterClients(index: readonly IndexedClient[], query: string): ClientRow[] {
  const q = query.trim().toLowerCase();
  if (q === '') return index.map((c) => c.row);
  const out: ClientRow[] = [];
  for (const c of index) if (c.hay.includes(q)) out.push(c.row);
  return out;
}

/**
 * [`filterClients`] for a search box, per keystroke: a query that extends an earlier one
 * (typing on) searches only that query's matches, and going back to an earlier query
 * (erasing) returns its result again without searching. The same query gives the same array,
 * so nothing downstream recomputes; a query that keeps every earlier match returns that
 * earlier array too. Results must not be modified.
 */
export class ClientFilter {
  // Queries typed so far with their matches, each query a prefix of the next; the first is ''.
  private readonly steps: { q: string; hits: readonly IndexedClient[]; rows: ClientRow[] }[];

  constructor(index: readonly IndexedClient[]) {
    this.steps = [{ q: '', hits: index, rows: index.map((c) => c.row) }];
  }

  filter(query: string): ClientRow[] {
    const q = query.trim().toLowerCase();
    const steps = this.steps;
    // A text containing `q` contains every prefix of `q`: the longest earlier query that is a
    // prefix of this one has all of this one's matches.
    while (steps.length > 1 && !q.startsWith(steps[steps.length - 1].q)) steps.pop();
    const last = steps[steps.length - 1];
    if (last.q === q) return last.rows;
    // Typing on often keeps every match ("c", "cl", "cli", …): then the earlier arrays are
    // reused, so nothing is allocated and nothing downstream changes.
    const prev = last.hits;
    let i = 0;
    while (i < prev.length && prev[i].hay.includes(q)) i++;
    let hits = prev;
    let rows = last.rows;
    if (i < prev.length) {
      const found = prev.slice(0, i);
      rows = last.rows.slice(0, i);
      for (i++; i < prev.length; i++) {
        const c = prev[i];
        if (c.hay.includes(q)) {
          found.push(c);
          rows.push(c.row);
        }
      }
      hits = found;
    }
    // Bounded memory for long queries: drop the oldest step but the first (still a chain).
    if (steps.length > 32) steps.splice(1, 1);
    steps.push({ q, hits, rows });
    return rows;
  }
}

/** Rows to render for a virtualized list: [start, end) plus `overscan` rows on each side. */
export function visibleRange(scrollTop: number, viewport: number, rowHeight: number, total: number, overscan = 8) {
  const first = Math.floor(Math.max(0, scrollTop) / rowHeight);
  const count = Math.ceil(viewport / rowHeight) + 1;
  const start = Math.min(total, Math.max(0, first - overscan));
  const end = Math.min(total, first + count + overscan);
  return { start, end: Math.max(start, end) };
}

/** `names` with the one at `i` moved up (-1) or down (+1); unchanged at the ends. */
export function moveItem<T>(items: readonly T[], i: number, by: -1 | 1): T[] {
  const j = i + by;
  const out = [...items];
  if (i < 0 || i >= out.length || j < 0 || j >= out.length) return out;
  [out[i], out[j]] = [out[j], out[i]];
  return out;
}

/** A suggested ID for a new client from its name: letters, digits, '-' (the core checks it). */
export function suggestId(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 64);
}

export type ScopeSection = 'base' | 'security' | 'support';

export interface ScopeFieldDef {
  /** Key relative to the scope, e.g. `host`. */
  name: string;
  label: string;
  section: ScopeSection;
  kind: 'text' | 'bool' | 'choice' | 'lines';
  choices?: readonly Choice[];
}

const YES_NO = [
  { value: 'true', label: 'On' },
  { value: 'false', label: 'Off' },
] as const;

function fromGlobal(name: string, section: ScopeSection, kind: ScopeFieldDef['kind'] = 'text'): ScopeFieldDef {
  const f = fieldFor(`global.${name}`);
  const choices = f?.choices ?? (kind === 'bool' ? YES_NO : undefined);
  return { name, label: f?.label ?? name, section, kind: f?.choices ? 'choice' : kind, choices };
}

const SERVER: ScopeFieldDef[] = [
  { name: 'enabled', label: 'Use its own mail server', section: 'base', kind: 'bool', choices: YES_NO },
  fromGlobal('email_type', 'base'),
  fromGlobal('host', 'base'),
  fromGlobal('port', 'base'),
  fromGlobal('auth', 'base'),
  fromGlobal('sender.address', 'base'),
  fromGlobal('sender.name', 'base'),
  fromGlobal('reply_to.address', 'base'),
  fromGlobal('reply_to.name', 'base'),
  fromGlobal('utf8_headers', 'base', 'bool'),
  fromGlobal('username', 'security'),
  fromGlobal('security', 'security'),
  fromGlobal('timeout_secs', 'security'),
  fromGlobal('data_timeout_secs', 'security'),
  fromGlobal('tls_verify', 'security', 'bool'),
  fromGlobal('helo_name', 'security'),
  fromGlobal('ca_file', 'security'),
];

export const CLIENT_EDITOR: readonly ScopeFieldDef[] = [
  { name: 'name', label: 'Client name', section: 'base', kind: 'text' },
  ...SERVER.slice(0, 7),
  { name: 'sender.alternatives', label: 'Alternative sender addresses (one per line)', section: 'base', kind: 'lines' },
  { name: 'sender.conceal', label: 'Conceal sender (system address, user’s name)', section: 'base', kind: 'bool', choices: YES_NO },
  ...SERVER.slice(7),
  { name: 'support.address', label: 'Client support address', section: 'support', kind: 'text' },
];

export const ROUTE_EDITOR: readonly ScopeFieldDef[] = [
  { name: 'from', label: 'From address pattern', section: 'base', kind: 'text' },
  { name: 'order', label: 'Order among equally specific routes', section: 'base', kind: 'text' },
  { ...SERVER[0], label: 'Route enabled' },
  ...SERVER.slice(1),
];

export const SCOPE_SECTIONS: readonly { id: ScopeSection; label: string }[] = [
  { id: 'base', label: 'Base' },
  { id: 'security', label: 'Security' },
  { id: 'support', label: 'Support' },
];

/** What an inherited value says where it comes from. */
export function inheritedLabel(from: string | undefined): string {
  return from === 'global' ? 'from global' : 'default';
}

/** The edits to save: keys whose draft differs from the saved own value. */
export function changedEdits(saved: Record<string, string>, draft: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(draft)) if ((saved[k] ?? '') !== v) out[k] = v;
  return out;
}
