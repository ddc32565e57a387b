import { cleanup, render, screen } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { makeForm } from '../../test/fixtures';
import * as api from '../api';
import type { PolicyView } from '../bindings/PolicyView';
import { Editor } from '../editor.svelte';
import { fieldFor } from '../fields';
import Field from './Field.svelte';

vi.mock('../api');
const mocked = vi.mocked(api);

const saved = makeForm({ 'global.enabled': 'true', 'global.host': 'smtp.policy.example', 'global.security': 'starttls', 'global.port': '587' });

const policy: PolicyView = {
  policy: {
    source: '/etc/postdesk/policy.json',
    exists: true,
    set: { 'global.host': 'smtp.policy.example' },
    lock: ['global.host', 'global.security', 'global.enabled'],
    error: null,
  },
  locked: ['global.host', 'global.security', 'global.enabled'],
  reason: 'set by your organization (policy /etc/postdesk/policy.json)',
};

async function editor(): Promise<Editor> {
  const e = new Editor();
  await e.load();
  return e;
}

beforeEach(() => {
  vi.resetAllMocks();
  mocked.loadForm.mockResolvedValue(structuredClone(saved));
  mocked.preview.mockResolvedValue([]);
  mocked.policy.mockResolvedValue(structuredClone(policy));
});

afterEach(cleanup);

describe('a key locked by the policy', () => {
  it('shows its value disabled with "Set by your organization", described to screen readers', async () => {
    const e = await editor();
    render(Field, { field: fieldFor('global.host')!, editor: e });
    const input = screen.getByLabelText('Mail server host') as HTMLInputElement;
    expect(input.value).toBe('smtp.policy.example');
    expect(input.disabled).toBe(true);
    const note = document.querySelector<HTMLElement>('[data-lock="global.host"]')!;
    expect(note.textContent).toContain('Set by your organization');
    expect(note.title).toContain('/etc/postdesk/policy.json');
    expect(input.getAttribute('aria-describedby')?.split(' ')).toContain(note.id);
  });

  it('cannot be changed through the editor either, while an unlocked key can', async () => {
    const e = await editor();
    e.set('global.host', 'evil.example.org');
    e.choose('global.security', 'none');
    expect(e.edits).toEqual({});
    e.set('global.port', '2525');
    expect(e.edits).toEqual({ 'global.port': '2525' });
  });

  it('locks selects and switches too', async () => {
    const e = await editor();
    render(Field, { field: fieldFor('global.security')!, editor: e });
    render(Field, { field: fieldFor('global.enabled')!, editor: e });
    const select = document.querySelector<HTMLSelectElement>('select[data-key="global.security"]')!;
    expect(select.disabled).toBe(true);
    expect(select.value).toBe('starttls');
    const sw = document.querySelector<HTMLInputElement>('input[data-key="global.enabled"]')!;
    expect(sw.disabled).toBe(true);
    await userEvent.click(sw);
    expect(sw.checked).toBe(true);
    expect(e.edits).toEqual({});
  });

  it('shows nothing locked without a policy answer', async () => {
    mocked.policy.mockRejectedValue({ code: 'other', message: 'no' });
    const e = await editor();
    render(Field, { field: fieldFor('global.host')!, editor: e });
    expect((screen.getByLabelText('Mail server host') as HTMLInputElement).disabled).toBe(false);
    expect(document.querySelector('[data-lock]')).toBeNull();
  });
});

describe('an invalid policy', () => {
  it('is not counted with the client and route problems (it has its own banner)', async () => {
    const { unplacedProblems } = await import('../form');
    const problems = [
      { key: 'policy', severity: 'error' as const, message: '/etc/postdesk/policy.json is invalid: lock: glob: neither a key nor a scope' },
      { key: 'client.acme.port', severity: 'error' as const, message: 'must be a number' },
    ];
    expect(unplacedProblems(problems, () => '').elsewhere.map((p) => p.key)).toEqual(['client.acme.port']);
  });
});
