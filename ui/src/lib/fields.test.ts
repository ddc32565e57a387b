import { describe, expect, it } from 'vitest';
import { SETTINGS } from './bindings/settings';
import type { Field } from './bindings/Field';
import { CLIENT_EDITOR, ROUTE_EDITOR } from './clients';
import { FIELDS } from './fields';

// The window's fields are placed by hand (fields.ts); which keys exist, their kinds, choices
// and defaults are declared once in the Rust model and generated into bindings/settings.ts.
// These tests hold the two together.

const SCOPES: Record<string, readonly Field[]> = { global: SETTINGS.server, support: SETTINGS.support, receiver: SETTINGS.receiver, proxy: SETTINGS.proxy };

function declared(key: string): Field | undefined {
  const dot = key.indexOf('.');
  return SCOPES[key.slice(0, dot)]?.find((f) => f.name === key.slice(dot + 1));
}

describe('fields and the declared settings', () => {
  it('every field of the window is a declared key', () => {
    for (const f of FIELDS) expect(declared(f.key), f.key).toBeDefined();
  });

  it('offers exactly the declared choices of each choice key', () => {
    const offered = new Map<string, Set<string>>();
    for (const f of FIELDS.filter((f) => f.choices)) {
      const kind = declared(f.key)?.kind;
      expect(kind?.type, f.key).toBe('enum');
      const choices = kind?.type === 'enum' ? kind.choices : [];
      for (const c of f.choices ?? []) expect(choices, `${f.key} offers ${c.value}`).toContain(c.value);
      const seen = offered.get(f.key) ?? new Set<string>();
      for (const c of f.choices ?? []) seen.add(c.value);
      offered.set(f.key, seen);
    }
    for (const [key, seen] of offered) {
      const kind = declared(key)?.kind;
      expect([...seen].sort(), key).toEqual(kind?.type === 'enum' ? [...kind.choices].sort() : []);
    }
  });

  it('secret fields are the declared secrets', () => {
    for (const f of FIELDS) expect(f.control === 'secret', f.key).toBe(declared(f.key)?.kind.type === 'secret');
  });

  it('the client and route editors edit declared keys of their scopes', () => {
    const server = new Set(SETTINGS.server.map((f) => f.name));
    for (const f of CLIENT_EDITOR) expect(server.has(f.name) || SETTINGS.client.some((c) => c.name === f.name), f.name).toBe(true);
    for (const f of ROUTE_EDITOR) expect(server.has(f.name) || SETTINGS.route.some((c) => c.name === f.name), f.name).toBe(true);
  });

  it('places every server key of the global server in the window', () => {
    const placed = new Set(FIELDS.map((f) => f.key));
    for (const f of SETTINGS.server) expect(placed.has(`global.${f.name}`), `global.${f.name}`).toBe(true);
  });
});
