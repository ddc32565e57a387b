import { describe, expect, it } from 'vitest';
import type { ClientRow } from './bindings/ClientRow';
import { changedEdits, CLIENT_EDITOR, ClientFilter, filterClients, indexClients, moveItem, ROUTE_EDITOR, suggestId, visibleRange } from './clients';

const row = (id: string, name = ''): ClientRow => ({ id, name, own_server: false, host: '' });

describe('clients list', () => {
  it('filters by ID or name, case-insensitively, keeping the order', () => {
    const index = indexClients([row('acme', 'Acme Corp'), row('beta', 'Beta Industries'), row('gamma-acme', '')]);
    expect(filterClients(index, 'ACME').map((r) => r.id)).toEqual(['acme', 'gamma-acme']);
    expect(filterClients(index, 'indus').map((r) => r.id)).toEqual(['beta']);
    expect(filterClients(index, '  ').length).toBe(3);
    expect(filterClients(index, 'zzz')).toEqual([]);
  });

  it('does not match across the ID and name boundary', () => {
    const index = indexClients([row('ab', 'cd')]);
    expect(filterClients(index, 'bc')).toEqual([]);
  });

  it('filters per keystroke like filterClients, typing on, erasing and replacing', () => {
    const rows: ClientRow[] = [];
    for (let i = 0; i < 300; i++) rows.push(row(`c${String(i).padStart(5, '0')}`, i % 7 === 0 ? '' : `Client ${i} ${['Acme', 'Beta', 'Ab'][i % 3]}`));
    const index = indexClients(rows);
    const filter = new ClientFilter(index);
    const typed = 'client 1';
    const queries: string[] = [];
    for (let i = 1; i <= typed.length; i++) queries.push(typed.slice(0, i));
    for (let i = typed.length - 1; i >= 0; i--) queries.push(typed.slice(0, i));
    queries.push('C00', 'c001', 'c0012', 'c00', ' acme ', 'ACM', 'beta', 'b', 'ab', 'a', 'abc', 'zz', 'z', '', 'c002', 'client 2 a', 'client 2 ab', '12', '1');
    for (const q of queries) expect(filter.filter(q).map((r) => r.id), q).toEqual(filterClients(index, q).map((r) => r.id));
    // The same query returns the same array (nothing downstream recomputes).
    expect(filter.filter('acme')).toBe(filter.filter(' ACME'));
    expect(filter.filter('')).toBe(filter.filter(''));
    // Typing on without losing a match returns the same array as before.
    expect(filter.filter('c0')).toBe(filter.filter('c'));
    expect(filter.filter('c0').length).toBe(300);
  });

  it('keeps at most 33 earlier queries and still filters right', () => {
    const index = indexClients([row('a'.repeat(60)), row('a'.repeat(40) + 'b'), row('x')]);
    const filter = new ClientFilter(index);
    for (let n = 1; n <= 60; n++) expect(filter.filter('a'.repeat(n)).length).toBe(n <= 40 ? 2 : 1);
    expect(filter.filter('a'.repeat(40) + 'b').map((r) => r.id)).toEqual(['a'.repeat(40) + 'b']);
    expect(filter.filter('x').length).toBe(1);
    expect(filter.filter('').length).toBe(3);
  });

  it('renders only the visible rows plus overscan', () => {
    expect(visibleRange(0, 440, 44, 10_000)).toEqual({ start: 0, end: 19 });
    expect(visibleRange(44 * 5000, 440, 44, 10_000)).toEqual({ start: 4992, end: 5019 });
    expect(visibleRange(44 * 9999, 440, 44, 10_000).end).toBe(10_000);
    expect(visibleRange(0, 440, 44, 3)).toEqual({ start: 0, end: 3 });
    expect(visibleRange(500, 440, 44, 0)).toEqual({ start: 0, end: 0 });
  });

  it('suggests an ID from a name', () => {
    expect(suggestId('Äcme Corp & Söhne')).toBe('acme-corp-sohne');
    expect(suggestId('  ')).toBe('');
  });
});

describe('routes and scope editor', () => {
  it('moves a route up or down, not past the ends', () => {
    expect(moveItem(['a', 'b', 'c'], 1, -1)).toEqual(['b', 'a', 'c']);
    expect(moveItem(['a', 'b', 'c'], 1, 1)).toEqual(['a', 'c', 'b']);
    expect(moveItem(['a', 'b', 'c'], 0, -1)).toEqual(['a', 'b', 'c']);
    expect(moveItem(['a', 'b', 'c'], 2, 1)).toEqual(['a', 'b', 'c']);
  });

  it('saves only the keys that changed, resets included', () => {
    expect(changedEdits({ 'client.a.host': 'x', 'client.a.port': '' }, { 'client.a.host': '', 'client.a.port': '' })).toEqual({
      'client.a.host': '',
    });
  });

  it('shows the client identity keys and the route pattern', () => {
    const names = CLIENT_EDITOR.map((f) => f.name);
    for (const n of ['name', 'host', 'port', 'sender.alternatives', 'sender.conceal', 'reply_to.address', 'support.address', 'security']) {
      expect(names).toContain(n);
    }
    expect(ROUTE_EDITOR[0].name).toBe('from');
    expect(new Set(CLIENT_EDITOR.map((f) => f.section))).toEqual(new Set(['base', 'security', 'support']));
  });
});
