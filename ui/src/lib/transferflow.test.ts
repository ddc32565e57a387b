import { beforeEach, describe, expect, it, vi } from 'vitest';
import { importPreview, makeForm } from '../test/fixtures';
import * as api from './api';
import { Editor } from './editor.svelte';
import { Transfer } from './transfer.svelte';

// Every export of the api module becomes a vi.fn() (vitest automock).
vi.mock('./api');

const mocked = vi.mocked(api);

const saved = makeForm({ 'global.enabled': 'true', 'global.host': 'smtp.example.com', 'global.port': '587' });
const imported = makeForm({ 'global.enabled': 'true', 'global.host': 'mail.example.org', 'global.port': '465' }, { can_undo_import: true });

async function setup() {
  const editor = new Editor();
  await editor.load();
  return { editor, transfer: new Transfer(editor) };
}

const wrongPassphrase = {
  message: 'secrets.encrypted: wrong passphrase',
  problems: [{ key: 'secrets.encrypted', severity: 'error', message: 'wrong passphrase' }],
};

beforeEach(() => {
  vi.resetAllMocks();
  mocked.loadForm.mockResolvedValue(structuredClone(saved));
  mocked.preview.mockResolvedValue([]);
  mocked.getPref.mockResolvedValue(undefined);
  mocked.setPref.mockResolvedValue();
});

/** A file read for import by the Rust side, as the page knows it. */
const chosen = (name: string, needs_passphrase = false) => ({ token: `token-${name}`, name, needs_passphrase });

describe('export', () => {
  it('exports without secrets to the file chosen in the native dialog', async () => {
    const { transfer } = await setup();
    mocked.exportConfig.mockResolvedValue('/home/admin/backup/office.json');
    transfer.openExport();
    expect(transfer.step).toBe('export');
    expect(await transfer.export()).toBe('done');
    // The page never names a path: the Rust side asks where to (and remembers the folder).
    expect(mocked.exportConfig).toHaveBeenCalledWith(null);
    expect(transfer.step).toBe('idle');
    expect(transfer.notice).toEqual({ text: 'Exported to /home/admin/backup/office.json', kind: 'ok', undo: false });
  });

  it('with secrets, needs a valid passphrase before asking where to', async () => {
    const { transfer } = await setup();
    transfer.openExport();
    transfer.withSecrets = true;
    transfer.passphrase = 'short';
    transfer.passphraseConfirm = 'short';
    expect(await transfer.export()).toBe('invalid');
    transfer.passphrase = 'correct horse';
    transfer.passphraseConfirm = 'correct hose';
    expect(await transfer.export()).toBe('invalid');
    expect(mocked.exportConfig).not.toHaveBeenCalled();

    transfer.passphraseConfirm = 'correct horse';
    mocked.exportConfig.mockResolvedValue('/tmp/x.json');
    expect(await transfer.export()).toBe('done');
    expect(mocked.exportConfig).toHaveBeenCalledWith('correct horse');
    // Not kept after use.
    expect(transfer.passphrase).toBe('');
    expect(transfer.passphraseConfirm).toBe('');
  });

  it('stays open when the save dialog is cancelled or the export fails', async () => {
    const { transfer } = await setup();
    transfer.openExport();
    mocked.exportConfig.mockResolvedValue(null);
    expect(await transfer.export()).toBe('cancelled');
    expect(transfer.step).toBe('export');

    mocked.exportConfig.mockRejectedValue({ message: 'cannot write /root/x.json: permission denied', problems: [] });
    expect(await transfer.export()).toBe('failed');
    expect(transfer.step).toBe('export');
    expect(transfer.exportFailure?.message).toBe('cannot write /root/x.json: permission denied');
  });
});

describe('import', () => {
  it('asks for the passphrase, retries a wrong one, previews, applies, undoes', async () => {
    const { editor, transfer } = await setup();
    mocked.chooseImport.mockResolvedValue(chosen('office.json', true));

    await transfer.startImport();
    expect(mocked.chooseImport).toHaveBeenCalledWith();
    expect(transfer.step).toBe('passphrase');
    expect(transfer.fileName).toBe('office.json');

    // Nothing typed: said without asking the backend.
    await transfer.submitPassphrase();
    expect(transfer.passphraseError).toBe('Type the passphrase the file was exported with.');
    expect(mocked.previewImport).not.toHaveBeenCalled();

    mocked.previewImport.mockRejectedValueOnce(wrongPassphrase);
    transfer.importPassphrase = 'wrong one';
    await transfer.submitPassphrase();
    expect(transfer.step).toBe('passphrase');
    expect(transfer.passphraseError).toBe('Wrong passphrase. Try again.');

    mocked.previewImport.mockResolvedValue(structuredClone(importPreview));
    transfer.importPassphrase = 'correct horse';
    await transfer.submitPassphrase();
    expect(mocked.previewImport).toHaveBeenLastCalledWith('token-office.json', 'correct horse');
    expect(transfer.step).toBe('preview');
    expect(transfer.preview).toEqual(importPreview);
    expect(transfer.importPassphrase).toBe('');

    mocked.applyImport.mockResolvedValue(structuredClone(imported));
    expect(await transfer.apply()).toBe(true);
    expect(mocked.applyImport).toHaveBeenCalledWith('token-office.json', 'correct horse', false);
    expect(transfer.step).toBe('idle');
    expect(editor.get('global.host')).toBe('mail.example.org');
    expect(editor.dirty).toBe(false);
    expect(transfer.notice).toEqual({ text: 'Imported: 5 changes', kind: 'ok', undo: true });
    expect(transfer.canUndo).toBe(true);

    mocked.undoImport.mockResolvedValue(structuredClone(saved));
    await transfer.undo();
    expect(mocked.undoImport).toHaveBeenCalledTimes(1);
    expect(editor.get('global.host')).toBe('smtp.example.com');
    expect(transfer.notice).toEqual({ text: 'Import undone', kind: 'ok', undo: false });
    expect(transfer.canUndo).toBe(false);
  });

  it('goes straight to the preview for a file without encrypted secrets', async () => {
    const { transfer } = await setup();
    mocked.openDropped.mockResolvedValue(chosen('dropped.json'));
    mocked.previewImport.mockResolvedValue({ changes: [], secrets_missing: [], encrypted_secrets: false, redirects: [], locked: [], token: 't' });
    await transfer.startImport('drop-7');
    expect(mocked.chooseImport).not.toHaveBeenCalled();
    expect(mocked.openDropped).toHaveBeenCalledWith('drop-7');
    expect(mocked.previewImport).toHaveBeenCalledWith('token-dropped.json', null);
    expect(transfer.step).toBe('preview');
  });

  it('lists every problem of an invalid file', async () => {
    const { transfer } = await setup();
    mocked.openDropped.mockResolvedValue(chosen('bad.json'));
    const problems = [
      { key: 'global.port', severity: 'error', message: 'must be a whole number from 1 to 65535' },
      { key: 'clients.x.address', severity: 'error', message: 'is not an e-mail address' },
    ];
    mocked.previewImport.mockRejectedValue({ message: 'invalid', problems });
    await transfer.startImport('drop-bad');
    expect(transfer.step).toBe('errors');
    expect(transfer.failure?.problems).toEqual(problems);
    transfer.cancel();
    expect(transfer.step).toBe('idle');
    expect(transfer.failure).toBeNull();
  });

  it('asks before replacing unsaved changes', async () => {
    const { editor, transfer } = await setup();
    editor.set('global.host', 'typed.example.com');
    mocked.openDropped.mockResolvedValue(chosen('a.json'));
    mocked.previewImport.mockResolvedValue(structuredClone(importPreview));
    await transfer.startImport('drop-a');
    expect(transfer.step).toBe('confirm');
    expect(transfer.confirmFor).toBe('import');
    expect(mocked.previewImport).not.toHaveBeenCalled();
    transfer.cancel();
    expect(transfer.step).toBe('idle');
    expect(editor.get('global.host')).toBe('typed.example.com');

    await transfer.startImport('drop-a');
    await transfer.confirmReplace();
    expect(transfer.step).toBe('preview');
    mocked.applyImport.mockResolvedValue(structuredClone(imported));
    await transfer.apply();
    expect(editor.dirty).toBe(false);
    expect(editor.get('global.host')).toBe('mail.example.org');
  });

  it('does nothing when the open dialog is cancelled', async () => {
    const { transfer } = await setup();
    mocked.chooseImport.mockResolvedValue(null);
    await transfer.startImport();
    expect(transfer.step).toBe('idle');
    expect(transfer.busy).toBe(false);
    expect(mocked.previewImport).not.toHaveBeenCalled();
  });

  it('drops late answers after Cancel', async () => {
    const { transfer } = await setup();
    mocked.openDropped.mockResolvedValue(chosen('a.json', true));
    await transfer.startImport('drop-a');
    let answer: (v: typeof importPreview) => void = () => {};
    mocked.previewImport.mockImplementation(() => new Promise((resolve) => (answer = resolve)));
    transfer.importPassphrase = 'correct horse';
    const pending = transfer.submitPassphrase();
    expect(transfer.busy).toBe(true);
    transfer.cancel();
    answer(structuredClone(importPreview));
    await pending;
    expect(transfer.step).toBe('idle');
    expect(transfer.preview).toBeNull();
  });
});

describe('menu and dropped files', () => {
  it('handles the File menu items', async () => {
    const { transfer } = await setup();
    transfer.menu('export');
    expect(transfer.step).toBe('export');
    transfer.cancel();

    mocked.chooseImport.mockResolvedValue(null);
    transfer.menu('import');
    await vi.waitFor(() => expect(mocked.chooseImport).toHaveBeenCalled());

    // Nothing to undo: said so.
    await vi.waitFor(() => expect(transfer.busy).toBe(false));
    transfer.menu('undo-import');
    expect(mocked.undoImport).not.toHaveBeenCalled();
    expect(transfer.notice).toEqual({ text: 'There is no import to undo', kind: 'info', undo: false });
  });

  it('shows the overlay while dragging and imports a dropped .json file', async () => {
    const { transfer } = await setup();
    transfer.dragDrop({ type: 'enter', paths: ['/tmp/a.json'] });
    expect(transfer.dragging).toBe('json');
    transfer.dragDrop({ type: 'over' });
    expect(transfer.dragging).toBe('json');
    transfer.dragDrop({ type: 'leave' });
    expect(transfer.dragging).toBeNull();

    transfer.dragDrop({ type: 'enter', paths: ['/tmp/notes.txt'] });
    expect(transfer.dragging).toBe('other');
    transfer.dragDrop({ type: 'drop', id: 'd1', name: 'notes.txt' });
    expect(transfer.dragging).toBeNull();
    expect(transfer.notice?.kind).toBe('error');
    expect(mocked.openDropped).not.toHaveBeenCalled();

    mocked.openDropped.mockResolvedValue(chosen('a.json', true));
    transfer.dragDrop({ type: 'drop', id: 'd2', name: 'a.json' });
    await vi.waitFor(() => expect(transfer.step).toBe('passphrase'));
    expect(mocked.openDropped).toHaveBeenCalledWith('d2');

    // While a dialog is open, another drop does nothing.
    transfer.dragDrop({ type: 'enter', paths: ['/tmp/b.json'] });
    expect(transfer.dragging).toBeNull();
    transfer.dragDrop({ type: 'drop', id: 'd3', name: 'b.json' });
    expect(mocked.openDropped).toHaveBeenCalledTimes(1);
  });
});
