import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { makeForm } from '../test/fixtures';
import * as api from './api';
import type { Problem } from './bindings/Problem';
import { Editor, PREVIEW_DELAY_MS } from './editor.svelte';

// Every export of the api module becomes a vi.fn() (vitest automock).
vi.mock('./api');

const mocked = vi.mocked(api);

const saved = makeForm(
  { 'global.enabled': 'true', 'global.host': 'smtp.example.com', 'global.port': '587', 'global.auth': 'password' },
  {
    secrets: { 'global.password': true, 'global.m365.client_secret': false },
    problems: [{ key: 'global.username', severity: 'missing', message: 'required for password authentication' }],
  },
);

async function loaded(): Promise<Editor> {
  const editor = new Editor();
  await editor.load();
  return editor;
}

/** Lets the debounce fire and the preview promise settle. */
async function afterPreview() {
  await vi.advanceTimersByTimeAsync(PREVIEW_DELAY_MS + 1);
}

beforeEach(() => {
  vi.resetAllMocks();
  vi.useFakeTimers();
  mocked.loadForm.mockResolvedValue(structuredClone(saved));
  mocked.preview.mockResolvedValue([]);
});

afterEach(() => {
  vi.useRealTimers();
});

describe('Editor', () => {
  it('starts from the saved form, clean, with its problems', async () => {
    const editor = await loaded();
    expect(editor.draft).toEqual(saved.values);
    expect(editor.dirty).toBe(false);
    expect(editor.problems).toEqual(saved.problems);
    expect(editor.blocking).toHaveLength(1);
    expect(editor.get('global.timeout_secs')).toBe('10');
  });

  it('reports a load failure', async () => {
    mocked.loadForm.mockRejectedValue('cannot read');
    const editor = await loaded();
    expect(editor.form).toBeNull();
    expect(editor.loadError).toBe('cannot read');
  });

  it('previews the changed keys once, after the admin stops typing', async () => {
    const editor = await loaded();
    const problems: Problem[] = [{ key: 'global.port', severity: 'error', message: 'must be a whole number from 1 to 65535' }];
    mocked.preview.mockResolvedValue(problems);
    editor.set('global.port', '9');
    editor.set('global.port', '99');
    editor.set('global.port', '99999');
    expect(editor.dirty).toBe(true);
    expect(mocked.preview).not.toHaveBeenCalled();
    await afterPreview();
    expect(mocked.preview).toHaveBeenCalledTimes(1);
    expect(mocked.preview).toHaveBeenCalledWith({ 'global.port': '99999' }, []);
    expect(editor.problemsFor('global.port')).toEqual(problems);
    expect(editor.blocking.map((p) => p.key)).toEqual(['global.port']);
  });

  it('drops the answer to an older preview', async () => {
    const editor = await loaded();
    let answerOld!: (p: Problem[]) => void;
    mocked.preview.mockImplementationOnce(() => new Promise((r) => (answerOld = r)));
    mocked.preview.mockResolvedValueOnce([]);
    editor.set('global.port', 'x');
    await afterPreview();
    editor.set('global.port', '465');
    await afterPreview();
    answerOld([{ key: 'global.port', severity: 'error', message: 'stale' }]);
    await vi.advanceTimersByTimeAsync(0);
    expect(editor.problemsFor('global.port')).toEqual([]);
  });

  it('goes back to the saved problems without asking when the draft equals the saved values', async () => {
    const editor = await loaded();
    editor.set('global.host', 'other.example.com');
    editor.set('global.host', 'smtp.example.com');
    await afterPreview();
    expect(mocked.preview).not.toHaveBeenCalled();
    expect(editor.dirty).toBe(false);
    expect(editor.problems).toEqual(saved.problems);
  });

  it('sends secret replacements and clears as SecretChange', async () => {
    const editor = await loaded();
    editor.replaceSecret('global.password');
    expect(editor.dirty).toBe(false); // nothing typed yet
    editor.typeSecret('global.password', 'hunter2');
    editor.clearSecret('global.m365.client_secret');
    await afterPreview();
    expect(mocked.preview).toHaveBeenLastCalledWith({}, [
      { key: 'global.password', value: 'hunter2' },
      { key: 'global.m365.client_secret', value: null },
    ]);
    editor.keepSecret('global.password');
    editor.keepSecret('global.m365.client_secret');
    expect(editor.dirty).toBe(false);
  });

  it('saves edits and secrets, then starts clean from the returned form', async () => {
    const editor = await loaded();
    const after = makeForm(
      { ...saved.values, 'global.username': 'mailer' },
      { secrets: { 'global.password': true, 'global.m365.client_secret': false } },
    );
    mocked.save.mockResolvedValue(after);
    editor.set('global.username', 'mailer');
    editor.typeSecret('global.password', 'new-pass');
    const ok = await editor.save();
    expect(ok).toBe(true);
    expect(mocked.save).toHaveBeenCalledWith({ 'global.username': 'mailer' }, [{ key: 'global.password', value: 'new-pass' }]);
    expect(editor.form).toEqual(after);
    expect(editor.dirty).toBe(false);
    expect(editor.secrets['global.password']).toEqual({ mode: 'keep', value: '' });
    expect(editor.justSaved).toBe(true);
    expect(editor.problems).toEqual([]);
    await afterPreview();
    expect(mocked.preview).not.toHaveBeenCalled(); // the save cancelled the pending preview
  });

  it('keeps what was typed while the save was under way', async () => {
    const editor = await loaded();
    let finish!: () => void;
    mocked.save.mockImplementation(
      () => new Promise((r) => (finish = () => r(makeForm({ ...saved.values, 'global.username': 'mailer' })))),
    );
    editor.set('global.username', 'mailer');
    const saving = editor.save();
    expect(editor.saving).toBe(true);
    editor.set('global.sender.name', 'IT desk');
    finish();
    await saving;
    expect(editor.edits).toEqual({ 'global.sender.name': 'IT desk' });
    expect(editor.justSaved).toBe(false);
  });

  it('shows the problems of a failed save and stays dirty', async () => {
    const editor = await loaded();
    mocked.preview.mockResolvedValue([{ key: 'global.port', severity: 'warning', message: 'port 25 is often blocked' }]);
    editor.set('global.port', '25');
    editor.set('global.host', '');
    await afterPreview();
    const blocking: Problem[] = [{ key: 'global.host', severity: 'missing', message: 'required when the mail server is used' }];
    mocked.save.mockRejectedValue({ message: 'global.host: required when the mail server is used', problems: blocking });
    expect(await editor.save()).toBe(false);
    expect(editor.dirty).toBe(true);
    expect(editor.saveError).toContain('global.host');
    expect(editor.saveProblems).toEqual(blocking);
    expect(editor.problemsFor('global.host')).toEqual(blocking);
    expect(editor.problemsFor('global.port')[0].severity).toBe('warning');
  });

  it('does not call the backend when there is nothing to save', async () => {
    const editor = await loaded();
    expect(await editor.save()).toBe(true);
    expect(mocked.save).not.toHaveBeenCalled();
  });

  it('reverts the draft, the secrets and the problems', async () => {
    const editor = await loaded();
    mocked.preview.mockResolvedValue([{ key: 'global.port', severity: 'error', message: 'bad' }]);
    editor.set('global.port', 'abc');
    editor.clearSecret('global.password');
    editor.choose('global.auth', 'm365-graph');
    await afterPreview();
    editor.revert();
    expect(editor.draft).toEqual(saved.values);
    expect(editor.secrets['global.password'].mode).toBe('keep');
    expect(editor.problems).toEqual(saved.problems);
    expect(editor.dirty).toBe(false);
  });

  it('treats choosing the saved meaning of a switch as no change', async () => {
    const editor = await loaded();
    editor.choose('global.tls_verify', 'false');
    expect(editor.edits).toEqual({ 'global.tls_verify': 'false' });
    editor.choose('global.tls_verify', 'true');
    expect(editor.edits).toEqual({});
  });
});
