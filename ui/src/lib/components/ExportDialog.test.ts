import { cleanup, render, screen, waitFor } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { makeForm } from '../../test/fixtures';
import * as api from '../api';
import { Editor } from '../editor.svelte';
import { Transfer } from '../transfer.svelte';
import ExportDialog from './ExportDialog.svelte';

// Every export of the api module becomes a vi.fn() (vitest automock).
vi.mock('../api');

const mocked = vi.mocked(api);
const q = <T extends Element = HTMLElement>(selector: string) => document.querySelector<T & HTMLElement>(selector);

async function show(dirty = false) {
  const editor = new Editor();
  await editor.load();
  const transfer = new Transfer(editor);
  transfer.openExport();
  const user = userEvent.setup();
  render(ExportDialog, { transfer, dirty });
  return { user, transfer };
}

beforeEach(() => {
  vi.resetAllMocks();
  mocked.loadForm.mockResolvedValue(makeForm({ 'global.host': 'smtp.example.com' }));
  mocked.getPref.mockResolvedValue('/home/admin');
  mocked.setPref.mockResolvedValue();
  mocked.exportConfig.mockResolvedValue(null);
});

afterEach(cleanup);

describe('ExportDialog', () => {
  it('exports without secrets by default, explaining what that means', async () => {
    const { user, transfer } = await show();
    const dialog = screen.getByRole('dialog', { name: 'Export settings' });
    expect(dialog).toHaveAttribute('id', 'export-dialog');
    const box = q<HTMLInputElement>('[data-export-with-secrets]')!;
    expect(box).not.toBeChecked();
    expect(box).toHaveFocus();
    expect(screen.getByLabelText('Include secrets, encrypted with a passphrase')).toBe(box);
    expect(dialog).toHaveTextContent(
      "Without secrets the file names the secrets the other machine needs; they stay in this machine's keychain.",
    );
    expect(q('[data-passphrase]')).toBeNull();

    // Where to is asked in a native dialog on the Rust side; the path written comes back.
    mocked.exportConfig.mockResolvedValue('/home/admin/postdesk-config.json');
    await user.click(q('#export-confirm')!);
    await waitFor(() => expect(mocked.exportConfig).toHaveBeenCalledWith(null));
    expect(transfer.step).toBe('idle');
    expect(transfer.notice?.text).toBe('Exported to /home/admin/postdesk-config.json');
  });

  it('with secrets, asks for a passphrase twice and checks it inline', async () => {
    const { user } = await show();
    await user.click(q('[data-export-with-secrets]')!);
    const pass = q<HTMLInputElement>('[data-passphrase]')!;
    const again = q<HTMLInputElement>('[data-passphrase-confirm]')!;
    expect(pass).toHaveAttribute('type', 'password');
    expect(again).toHaveAttribute('type', 'password');
    expect(screen.getByLabelText('Passphrase')).toBe(pass);
    expect(screen.getByLabelText('Passphrase again')).toBe(again);
    // Nothing is said before the admin typed.
    expect(q('[data-passphrase-problem]')).toBeNull();

    // Submitting empty fields: both are explained, the focus goes to the first.
    await user.click(q('#export-confirm')!);
    expect(q('[data-passphrase-problem]')).toHaveTextContent('Type a passphrase.');
    expect(q('[data-passphrase-confirm-problem]')).toHaveTextContent('Type the passphrase again.');
    expect(pass).toHaveAttribute('aria-invalid', 'true');
    expect(pass).toHaveFocus();
    expect(mocked.exportConfig).not.toHaveBeenCalled();

    await user.type(pass, 'short');
    expect(q('[data-passphrase-problem]')).toHaveTextContent('Use at least 8 characters (5 so far).');
    await user.type(pass, ' but now long');
    expect(q('[data-passphrase-problem]')).toBeNull();
    expect(pass).toHaveAttribute('aria-invalid', 'false');

    await user.type(again, 'short but now lonG');
    expect(q('[data-passphrase-confirm-problem]')).toHaveTextContent('The passphrases do not match.');
    await user.click(q('#export-confirm')!);
    expect(again).toHaveFocus();
    expect(mocked.exportConfig).not.toHaveBeenCalled();

    await user.clear(again);
    await user.type(again, 'short but now long');
    expect(q('[data-passphrase-confirm-problem]')).toBeNull();
    mocked.exportConfig.mockResolvedValue('/tmp/with-secrets.json');
    await user.keyboard('{Enter}');
    await waitFor(() => expect(mocked.exportConfig).toHaveBeenCalledWith('short but now long'));
  });

  it('explains a problem only after leaving the field', async () => {
    const { user } = await show();
    await user.click(q('[data-export-with-secrets]')!);
    await user.type(q('[data-passphrase]')!, 'abc');
    // Still typing in the field: no message yet.
    expect(q('[data-passphrase-problem]')).toBeNull();
    await user.tab();
    expect(q('[data-passphrase-problem]')).toHaveTextContent('Use at least 8 characters (3 so far).');
  });

  it('shows why an export failed and stays open', async () => {
    const { user, transfer } = await show();
    mocked.exportConfig.mockRejectedValue({
      message: 'passphrase: the passphrase is empty',
      problems: [{ key: 'passphrase', severity: 'error', message: 'the passphrase is empty' }],
    });
    await user.click(q('#export-confirm')!);
    await waitFor(() => expect(q('#export-error')).toHaveTextContent('passphrase: the passphrase is empty'));
    expect(q('#export-error')).toHaveAttribute('role', 'alert');
    expect(transfer.step).toBe('export');
  });

  it('says that unsaved changes are not exported', async () => {
    await show(true);
    expect(q('#export-dialog')).toHaveTextContent('Unsaved changes are not included: save them first.');
  });

  it('cancels with the button or Escape', async () => {
    const { user, transfer } = await show();
    await user.keyboard('{Escape}');
    expect(transfer.step).toBe('idle');
    transfer.openExport();
    await user.click(q('#export-cancel')!);
    expect(transfer.step).toBe('idle');
    expect(mocked.exportConfig).not.toHaveBeenCalled();
  });
});
