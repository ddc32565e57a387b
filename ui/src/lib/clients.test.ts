import { describe, expect, it } from 'vitest';
import type { ClientRow } from './bindings/ClientRow';
import { changedEdits, CLIENT_EDITOR, filterClients, indexClients, moveItem, ROUTE_EDITOR, suggestId, visibleRange } from './clients';

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
