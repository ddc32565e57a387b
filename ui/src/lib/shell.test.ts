import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { makeForm } from '../test/fixtures';
import * as api from './api';
import { Shell } from './shell.svelte';

// Every export of the api module becomes a vi.fn() (vitest automock).
vi.mock('./api');
const mocked = vi.mocked(api);

const saved = makeForm({ 'global.enabled': 'true', 'global.host': 'smtp.example.com', 'global.auth': 'password' });

let closeHandler: ((e: { preventDefault(): void }) => void | Promise<void>) | undefined;

/** A started shell whose first form has been shown. */
async function started(): Promise<{ shell: Shell; stop: () => void }> {
  const shell = new Shell();
  const stop = shell.start();
  await vi.waitFor(() => expect(shell.ready).toBe(true));
  return { shell, stop };
}

const ctrlS = (over: Partial<KeyboardEvent> = {}) =>
  ({ ctrlKey: true, metaKey: false, altKey: false, key: 's', preventDefault: vi.fn(), ...over }) as unknown as KeyboardEvent;

beforeEach(() => {
  vi.resetAllMocks();
  closeHandler = undefined;
  mocked.loadForm.mockResolvedValue(structuredClone(saved));
  mocked.preview.mockResolvedValue([]);
  mocked.getPref.mockResolvedValue(undefined);
  mocked.setPref.mockResolvedValue();
  mocked.destroyWindow.mockResolvedValue();
  mocked.onCloseRequested.mockImplementation(async (handler) => {
    closeHandler = handler;
    return () => {};
  });
  mocked.onMenu.mockResolvedValue(() => {});
  mocked.onDragDrop.mockResolvedValue(() => {});
});

afterEach(() => {
  vi.useRealTimers();
});

describe('Shell', () => {
  it('starts on the remembered section once the form is there, and stops listening when stopped', async () => {
    const unlisten = vi.fn();
    mocked.onMenu.mockResolvedValue(unlisten);
    mocked.getPref.mockImplementation(async (key) => (key === 'lastSection' ? 'support' : undefined));
    const { shell, stop } = await started();
    expect(shell.section).toBe('support');
    expect(shell.form?.config_path).toBe(saved.config_path);
    expect(shell.status).toBe('No unsaved changes');
    stop();
    expect(unlisten).toHaveBeenCalled();
  });

  it('is not ready when the form cannot be loaded, until "Try again" loads it', async () => {
    mocked.loadForm.mockRejectedValueOnce({ message: 'disk gone' });
    const shell = new Shell();
    shell.start();
    await vi.waitFor(() => expect(shell.editor.loadError).toBe('disk gone'));
    expect(shell.ready).toBe(false);
    expect(shell.status).toBe('Loading…');
    await shell.retryLoad();
    expect(shell.ready).toBe(true);
  });

  it('shows a section and remembers it only when it changes; a view leaves the settings', async () => {
    const { shell } = await started();
    shell.view = 'clients';
    expect(shell.listView).toBe(true);
    shell.go('base');
    expect(shell.view).toBe('settings');
    expect(mocked.setPref).not.toHaveBeenCalled();
    shell.go('security');
    expect(shell.section).toBe('security');
    expect(mocked.setPref).toHaveBeenCalledWith('lastSection', 'security');
  });

  it('saves with Ctrl+S when something changed and no dialog is open', async () => {
    mocked.save.mockResolvedValue(makeForm({ ...saved.values, 'global.host': 'mail.example.com' }));
    const { shell } = await started();
    const idle = ctrlS();
    shell.onWindowKeydown(idle);
    expect(idle.preventDefault).toHaveBeenCalled();
    expect(mocked.save).not.toHaveBeenCalled();

    shell.editor.set('global.host', 'mail.example.com');
    expect(shell.canSave).toBe(true);
    shell.dialogOpen = true;
    shell.onWindowKeydown(ctrlS());
    expect(mocked.save).not.toHaveBeenCalled();
    shell.dialogOpen = false;
    shell.onWindowKeydown(ctrlS({ altKey: true }));
    expect(mocked.save).not.toHaveBeenCalled();
    shell.onWindowKeydown(ctrlS({ ctrlKey: false, metaKey: true, key: 'S' }));
    await vi.waitFor(() => expect(shell.editor.justSaved).toBe(true));
    expect(mocked.save).toHaveBeenCalledWith({ 'global.host': 'mail.example.com' }, []);
  });

  it('asks before closing with unsaved changes; saving there closes the window only when saved', async () => {
    const { shell } = await started();
    await vi.waitFor(() => expect(closeHandler).toBeDefined());
    const clean = { preventDefault: vi.fn() };
    await closeHandler!(clean);
    expect(clean.preventDefault).not.toHaveBeenCalled();
    expect(shell.dialogOpen).toBe(false);

    shell.editor.set('global.host', 'mail.example.com');
    const dirty = { preventDefault: vi.fn() };
    await closeHandler!(dirty);
    expect(dirty.preventDefault).toHaveBeenCalled();
    expect(shell.dialogOpen).toBe(true);
    expect(shell.modalOpen).toBe(true);

    mocked.save.mockRejectedValueOnce({ message: 'refused', problems: [] });
    await shell.dialogSave();
    expect(shell.dialogOpen).toBe(false);
    expect(mocked.destroyWindow).not.toHaveBeenCalled();

    await shell.dialogDiscard();
    expect(mocked.destroyWindow).toHaveBeenCalledTimes(1);
  });

  it('drops what the last import said at the next edit', async () => {
    const { shell } = await started();
    shell.dismissNoticeOnEdit();
    shell.transfer.notice = { kind: 'ok', text: 'Imported.', undo: true };
    shell.dismissNoticeOnEdit();
    expect(shell.note?.text).toBe('Imported.');
    expect(shell.status).toBe('Imported.');
    shell.editor.set('global.host', 'x.example.com');
    shell.dismissNoticeOnEdit();
    expect(shell.note).toBeNull();
  });

  it('opens Advanced for a problem there, and knows what the current settings hide', async () => {
    const { shell } = await started();
    expect(shell.advancedHasProblem).toBe(false);
    expect(shell.auth).toBe('password');
    expect(shell.sendmail).toBe(false);
    expect(shell.show('global.username')).toBe(true);
    expect(shell.show('global.m365.authority')).toBe(false);
    shell.editor.choose('global.auth', 'm365-smtp');
    shell.editor.problems = [{ key: 'global.m365.authority', severity: 'error', message: 'not https' }];
    expect(shell.advancedHasProblem).toBe(true);
  });
});
