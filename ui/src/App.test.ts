import { cleanup, render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import App from './App.svelte';
import * as api from './lib/api';
import type { DragDrop } from './lib/api';
import type { Form } from './lib/bindings/Form';
import { importPreview, makeForm } from './test/fixtures';

// Every export of the api module becomes a vi.fn() (vitest automock).
vi.mock('./lib/api');

const mocked = vi.mocked(api);

const saved = makeForm(
  {
    'global.enabled': 'true',
    'global.host': 'smtp.example.com',
    'global.port': '587',
    'global.security': 'starttls',
    'global.auth': 'password',
    'global.username': 'mailer',
    'global.sender.address': 'it@example.com',
  },
  { secrets: { 'global.password': true, 'global.m365.client_secret': false } },
);

let closeHandler: ((e: { preventDefault(): void }) => void | Promise<void>) | undefined;
let menuHandler: ((item: string) => void) | undefined;
let dropHandler: ((e: DragDrop) => void) | undefined;

async function start(form: Form = saved) {
  mocked.loadForm.mockResolvedValue(structuredClone(form));
  const user = userEvent.setup();
  const result = render(App);
  await waitFor(() => expect(document.body.dataset.ready).toBe('true'));
  return { user, ...result };
}

const q = <T extends Element = HTMLElement>(selector: string) => document.querySelector<T & HTMLElement>(selector);

beforeEach(() => {
  vi.resetAllMocks();
  closeHandler = undefined;
  mocked.preview.mockResolvedValue([]);
  mocked.getPref.mockResolvedValue(undefined);
  mocked.setPref.mockResolvedValue();
  mocked.destroyWindow.mockResolvedValue();
  mocked.onCloseRequested.mockImplementation(async (handler) => {
    closeHandler = handler;
    return () => {};
  });
  menuHandler = undefined;
  dropHandler = undefined;
  mocked.onMenu.mockImplementation(async (handler) => {
    menuHandler = handler;
    return () => {};
  });
  mocked.onDragDrop.mockImplementation(async (handler) => {
    dropHandler = handler;
    return () => {};
  });
});

afterEach(() => {
  cleanup();
  delete document.body.dataset.ready;
});

describe('App', () => {
  it('shows the saved values with labels, defaults as placeholders, and the settings file', async () => {
    await start(makeForm({ ...saved.values, 'global.port': '' }, { secrets: saved.secrets }));
    expect(q('[data-panel="base"]')).toBeInTheDocument();
    expect(screen.getByLabelText('Mail server host')).toHaveValue('smtp.example.com');
    const port = q<HTMLInputElement>('[data-key="global.port"]')!;
    expect(port).toHaveValue('');
    expect(port).toHaveAttribute('placeholder', '25');
    expect(screen.getByLabelText('Use mail server')).toBeChecked();
    expect(screen.getByLabelText('Authentication')).toHaveValue('password');
    expect(screen.getByText(saved.config_path)).toBeInTheDocument();
    expect(q('#status')).toHaveTextContent('No unsaved changes');
    expect(q('#save')).toBeDisabled();
  });

  it('opens on the remembered section', async () => {
    mocked.getPref.mockResolvedValue('support');
    await start();
    expect(q('[data-panel="support"]')).toBeInTheDocument();
    expect(q('[data-panel="base"]')).toBeNull();
    expect(q('[data-section="support"]')).toHaveAttribute('aria-selected', 'true');
  });

  it('validates as the admin types and shows the problem under the field', async () => {
    const { user } = await start();
    mocked.preview.mockImplementation(async (edits) =>
      edits['global.port'] === '99999'
        ? [{ key: 'global.port', severity: 'error', message: 'must be a whole number from 1 to 65535' }]
        : [],
    );
    const port = q<HTMLInputElement>('[data-key="global.port"]')!;
    await user.clear(port);
    await user.type(port, '99999');
    await waitFor(() => expect(q('[data-problem-for="global.port"]')).toHaveTextContent('must be a whole number from 1 to 65535'));
    expect(mocked.preview).toHaveBeenLastCalledWith({ 'global.port': '99999' }, []);
    expect(port).toHaveAttribute('aria-invalid', 'true');
    const message = q('[data-problem-for="global.port"]')!.closest('p')!;
    expect(port.getAttribute('aria-describedby')?.split(' ')).toContain(message.id);
    expect(q('#status')).toHaveTextContent('1 problem to fix');
    expect(q('#save')).toBeDisabled();
    expect(q('[data-section="base"] .badge')).toHaveTextContent('1');
  });

  it('counts problems of other sections on their tab and moves between tabs with arrow keys', async () => {
    const { user } = await start();
    mocked.preview.mockResolvedValue([{ key: 'global.username', severity: 'missing', message: 'required for password authentication' }]);
    await user.clear(q('[data-key="global.port"]')!);
    await waitFor(() => expect(q('[data-section="security"] .badge')).toHaveTextContent('1'));
    q('[data-section="base"]')!.focus();
    await user.keyboard('{ArrowDown}');
    expect(q('[data-section="security"]')).toHaveFocus();
    expect(q('[data-panel="security"]')).toBeInTheDocument();
    expect(q('[data-problem-for="global.username"]')).toHaveTextContent('required for password authentication');
    expect(mocked.setPref).toHaveBeenCalledWith('lastSection', 'security');
    await user.keyboard('{End}');
    expect(q('[data-panel="support"]')).toBeInTheDocument();
  });

  it('shows only the fields of the chosen authentication', async () => {
    const { user } = await start();
    await user.click(q('[data-section="security"]')!);
    expect(q('[data-key="global.username"]')).toBeInTheDocument();
    expect(q('[data-secret-status="global.password"]')).toHaveTextContent('Set');
    expect(q('[data-key="global.m365.tenant"]')).toBeNull();

    await user.click(q('[data-section="base"]')!);
    await user.selectOptions(q('[data-key="global.auth"]')!, 'm365-graph');
    expect(q('[data-key="global.host"]')).toBeNull();
    await user.click(q('[data-section="security"]')!);
    expect(q('[data-key="global.m365.tenant"]')).toBeInTheDocument();
    expect(q('[data-key="global.security"]')).toBeNull();
    expect(q('[data-key="global.username"]')).toBeNull();
    // The sign-in parts are loaded when first shown (lib/later.ts).
    expect(await screen.findByLabelText('Redirect URI')).toHaveValue(saved.redirect_uri);

    // The transport on the Security section is the same choice.
    await user.click(screen.getByLabelText(/^SMTP/));
    expect(q('[data-key="global.security"]')).toBeInTheDocument();
    expect(q('#status')).toHaveTextContent('Unsaved changes');
  });

  it('with sendmail, asks for the program and hides the server, sign-in and encryption', async () => {
    const { user } = await start();
    const type = q<HTMLSelectElement>('[data-key="global.email_type"]')!;
    expect(type).toHaveValue('smtp');
    expect(screen.getByLabelText('Email type')).toBe(type);
    // Right after "Use mail server", at the top of the Mail server card.
    const keys = [...q('[data-panel="base"] .group:not(#preset-picker)')!.querySelectorAll('[data-key]')].map((e) => e.getAttribute('data-key'));
    expect(keys.slice(0, 3)).toEqual(['global.enabled', 'global.email_type', 'global.auth']);
    expect(q('[data-key="global.sendmail_path"]')).toBeNull();

    await user.selectOptions(type, 'sendmail');
    const path = q<HTMLInputElement>('[data-key="global.sendmail_path"]')!;
    expect(path).toHaveAttribute('placeholder', '/usr/sbin/sendmail');
    for (const k of ['global.host', 'global.port', 'global.auth']) expect(q(`[data-key="${k}"]`)).toBeNull();
    expect(q('[data-key="global.reply_to.address"]')).toBeInTheDocument();
    expect(q('[data-key="global.sender.address"]')).toBeInTheDocument();
    await waitFor(() => expect(mocked.preview).toHaveBeenLastCalledWith({ 'global.email_type': 'sendmail' }, []));

    await user.click(q('[data-section="security"]')!);
    const panel = q('[data-panel="security"]')!;
    expect(panel).toHaveTextContent('The sendmail program handles delivery; nothing to set here.');
    expect(panel.querySelector('[data-key], [data-secret-status]')).toBeNull();
  });

  it('has a Test card at the bottom of Base with the remembered recipient', async () => {
    mocked.getPref.mockImplementation(async (key) => (key === 'lastTestRecipient' ? 'admin@example.com' : undefined));
    await start();
    const groups = document.querySelectorAll('[data-panel="base"] .group');
    const last = groups[groups.length - 1];
    expect(within(last as HTMLElement).getByRole('heading', { name: 'Test' })).toBeInTheDocument();
    await waitFor(() => expect(q('[data-test-mail-to]')).toHaveValue('admin@example.com'));
    expect(q('#test-mail-send')).toBeEnabled();
  });

  it('keeps a running test (and shows its result) while another section is shown', async () => {
    mocked.getPref.mockImplementation(async (key) => (key === 'lastTestRecipient' ? 'admin@example.com' : undefined));
    let finish: (r: Awaited<ReturnType<typeof api.testMail>>) => void = () => {};
    mocked.testMail.mockImplementation(() => new Promise((resolve) => (finish = resolve)));
    const { user } = await start();
    await waitFor(() => expect(q('[data-test-mail-to]')).toHaveValue('admin@example.com'));
    await user.click(q('#test-mail-send')!);
    await user.click(q('[data-section="support"]')!);
    await user.type(q('[data-key="support.address"]')!, 'help@example.com');
    finish({ ok: true, server: null, steps: [], failed_stage: null, error: null, hint: null, transcript: [] });
    await user.click(q('[data-section="base"]')!);
    await waitFor(() => expect(q('#test-mail-result')).toHaveAttribute('data-ok', 'true'));
    expect(q('#test-mail-cancel')).toBeNull();
  });

  it('replaces a secret without ever showing it, and saves it', async () => {
    const { user } = await start();
    await user.click(q('[data-section="security"]')!);
    expect(q('[data-secret="global.password"]')).toBeNull();
    await user.click(q('[data-secret-replace="global.password"]')!);
    const input = q<HTMLInputElement>('[data-secret="global.password"]')!;
    expect(input).toHaveAttribute('type', 'password');
    expect(input).toHaveValue('');
    expect(input).toHaveFocus();
    await user.type(input, 'n3w-pass');
    expect(q('#save')).toBeEnabled();

    mocked.save.mockResolvedValue(structuredClone(saved));
    await user.click(q('#save')!);
    await waitFor(() => expect(q('#status')).toHaveTextContent('Saved'));
    expect(mocked.save).toHaveBeenCalledWith({}, [{ key: 'global.password', value: 'n3w-pass' }]);
    expect(q('[data-secret="global.password"]')).toBeNull();
    expect(q('#save')).toBeDisabled();
  });

  it('marks a secret for clearing until saved', async () => {
    const { user } = await start();
    await user.click(q('[data-section="security"]')!);
    await user.click(q('[data-secret-clear="global.password"]')!);
    expect(screen.getByText('Will be cleared when you save')).toBeInTheDocument();
    expect(q('[data-secret-status="global.password"]')).toHaveTextContent('Set');
    mocked.save.mockResolvedValue(makeForm(saved.values, { secrets: { ...saved.secrets, 'global.password': false } }));
    await user.keyboard('{Control>}s{/Control}');
    await waitFor(() => expect(q('[data-secret-status="global.password"]')).toHaveTextContent('Not set'));
    expect(mocked.save).toHaveBeenCalledWith({}, [{ key: 'global.password', value: null }]);
  });

  it('shows the problems of a refused save', async () => {
    const { user } = await start();
    await user.clear(q('[data-key="global.sender.name"]')!);
    await user.type(q('[data-key="global.sender.name"]')!, 'IT');
    mocked.save.mockRejectedValue({
      message: 'global.host: required when the mail server is used',
      problems: [{ key: 'global.host', severity: 'missing', message: 'required when the mail server is used' }],
    });
    await user.click(q('#save')!);
    await waitFor(() => expect(q('[data-problem-for="global.host"]')).toHaveTextContent('required when the mail server is used'));
    const alert = q('#save-error')!;
    expect(alert).toHaveAttribute('role', 'alert');
    expect(within(alert).getByRole('button', { name: /Mail server host/ })).toBeInTheDocument();
    expect(q('#status')).toHaveTextContent('1 problem to fix');
  });

  it('reverts to the saved values', async () => {
    const { user } = await start();
    const host = q<HTMLInputElement>('[data-key="global.host"]')!;
    await user.clear(host);
    await user.type(host, 'other.example.com');
    expect(q('#status')).toHaveTextContent('Unsaved changes');
    await user.click(q('#revert')!);
    expect(q<HTMLInputElement>('[data-key="global.host"]')).toHaveValue('smtp.example.com');
    expect(q('#status')).toHaveTextContent('No unsaved changes');
  });

  it('shows the notice and keychain error as dismissible alerts', async () => {
    const { user } = await start(
      makeForm(saved.values, {
        notice: 'the configuration file could not be read; it was kept as config.json.bad',
        keychain_error: 'no secret service',
      }),
    );
    const notice = q('#notice')!;
    expect(notice).toHaveAttribute('role', 'alert');
    expect(notice).toHaveTextContent('it was kept as config.json.bad');
    expect(screen.getByText('no secret service')).toBeInTheDocument();
    await user.click(within(notice).getByRole('button', { name: 'Dismiss' }));
    expect(q('#notice')).toBeNull();
  });

  it('asks before closing with unsaved changes; Escape cancels, Discard closes', async () => {
    const { user } = await start();
    const clean = { preventDefault: vi.fn() };
    await closeHandler!(clean);
    expect(clean.preventDefault).not.toHaveBeenCalled();

    await user.type(q('[data-key="global.sender.name"]')!, 'IT');
    const dirty = { preventDefault: vi.fn() };
    await closeHandler!(dirty);
    expect(dirty.preventDefault).toHaveBeenCalled();
    const dialog = await screen.findByRole('dialog');
    expect(dialog).toHaveAttribute('id', 'close-dialog');
    expect(dialog).toHaveAttribute('aria-modal', 'true');
    expect(q('[data-dialog="save"]')).toHaveFocus();
    const app = q('.app') as HTMLElement & { inert?: boolean };
    expect(app.inert === true || app.hasAttribute('inert')).toBe(true);

    // Focus stays in the dialog.
    await user.tab();
    expect(dialog).toContainElement(document.activeElement as HTMLElement);
    await user.keyboard('{Escape}');
    expect(q('#close-dialog')).toBeNull();
    await waitFor(() => expect(q('[data-key="global.sender.name"]')).toHaveFocus());
    expect(mocked.destroyWindow).not.toHaveBeenCalled();

    await closeHandler!({ preventDefault: vi.fn() });
    await user.click(await screen.findByRole('button', { name: 'Discard' }));
    expect(mocked.destroyWindow).toHaveBeenCalledTimes(1);
    expect(mocked.save).not.toHaveBeenCalled();
  });

  it('saves from the close dialog, then closes', async () => {
    const { user } = await start();
    await user.type(q('[data-key="global.sender.name"]')!, 'IT');
    mocked.save.mockResolvedValue(makeForm({ ...saved.values, 'global.sender.name': 'IT' }, { secrets: saved.secrets }));
    await closeHandler!({ preventDefault: vi.fn() });
    await user.click(within(await screen.findByRole('dialog')).getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(mocked.destroyWindow).toHaveBeenCalledTimes(1));
    expect(mocked.save).toHaveBeenCalledWith({ 'global.sender.name': 'IT' }, []);
  });

  it('copies the redirect URI', async () => {
    mocked.copyText.mockResolvedValue(true);
    const { user } = await start(makeForm({ ...saved.values, 'global.auth': 'm365-smtp' }, { secrets: saved.secrets }));
    await user.click(q('[data-section="security"]')!);
    await user.click(screen.getByRole('button', { name: 'Copy' }));
    expect(mocked.copyText).toHaveBeenCalledWith(saved.redirect_uri);
    expect(await screen.findByRole('button', { name: 'Copied' })).toBeInTheDocument();
  });
});

describe('App: export and import', () => {
  const imported = makeForm(
    { ...saved.values, 'global.host': 'mail.example.org', 'global.port': '465', 'support.address': 'help@example.com' },
    { secrets: saved.secrets, can_undo_import: true },
  );

  it('has Export and Import in the sidebar, under the sections', async () => {
    await start();
    const tools = screen.getByRole('group', { name: 'Configuration file' });
    expect(q('.sidebar')).toContainElement(tools);
    expect(within(tools).getByRole('button', { name: 'Export…' })).toHaveAttribute('id', 'export-open');
    expect(within(tools).getByRole('button', { name: 'Import…' })).toHaveAttribute('id', 'import-open');
    // Nothing to undo yet.
    expect(q('#undo-import')).toBeNull();
    // Between the sections and the settings file.
    expect(q('.tabs')!.compareDocumentPosition(tools) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
    expect(tools.compareDocumentPosition(q('.sidebar-foot')!) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
  });

  it('exports from the toolbar and says where to', async () => {
    const { user } = await start();
    // The folder and the file are chosen in a native dialog on the Rust side.
    mocked.exportConfig.mockResolvedValue('/home/admin/exports/postdesk-config.json');
    await user.click(q('#export-open')!);
    const dialog = await screen.findByRole('dialog', { name: 'Export settings' });
    expect(dialog).toHaveAttribute('id', 'export-dialog');
    const app = q('.app') as HTMLElement & { inert?: boolean };
    expect(app.inert === true || app.hasAttribute('inert')).toBe(true);
    await user.click(q('#export-confirm')!);
    await waitFor(() => expect(q('#status')).toHaveTextContent('Exported to /home/admin/exports/postdesk-config.json'));
    expect(mocked.exportConfig).toHaveBeenCalledWith(null);
    expect(q('#export-dialog')).toBeNull();
    await waitFor(() => expect(q('#export-open')).toHaveFocus());
  });

  it('imports: passphrase (retrying a wrong one), preview, apply, then undo', async () => {
    const { user } = await start();
    mocked.chooseImport.mockResolvedValue({ token: 'office-token', name: 'office.json', needs_passphrase: true });
    mocked.previewImport.mockRejectedValueOnce({
      message: 'secrets.encrypted: wrong passphrase',
      problems: [{ key: 'secrets.encrypted', severity: 'error', message: 'wrong passphrase' }],
    });
    await user.click(q('#import-open')!);

    const ask = await screen.findByRole('dialog', { name: 'Passphrase for office.json' });
    expect(ask).toHaveAttribute('id', 'import-passphrase-dialog');
    const input = q<HTMLInputElement>('[data-import-passphrase]')!;
    expect(input).toHaveFocus();
    await user.type(input, 'wrong one');
    await user.click(q('#import-passphrase-ok')!);
    await waitFor(() => expect(q('#import-passphrase-problem')).toHaveTextContent('Wrong passphrase. Try again.'));
    expect(input).toHaveAttribute('aria-invalid', 'true');
    expect(mocked.previewImport).toHaveBeenLastCalledWith('office-token', 'wrong one');

    mocked.previewImport.mockResolvedValue(structuredClone(importPreview));
    await user.clear(input);
    await user.type(input, 'correct horse{Enter}');
    const preview = await screen.findByRole('dialog', { name: 'Import office.json?' });
    expect(preview).toHaveAttribute('id', 'import-preview');
    expect(q('[data-change-key="global.port"]')).toHaveAttribute('data-change-kind', 'changed');
    expect(q('[data-change-key="global.password"]')).toHaveTextContent('will be set');
    expect(preview).toHaveTextContent('Set this after importing: global.m365.client_secret');

    mocked.applyImport.mockResolvedValue(structuredClone(imported));
    await user.click(q('#import-apply')!);
    await waitFor(() => expect(q('#import-preview')).toBeNull());
    expect(mocked.applyImport).toHaveBeenCalledWith('office-token', 'correct horse', false);
    expect(q<HTMLInputElement>('[data-key="global.host"]')).toHaveValue('mail.example.org');
    expect(q('#status')).toHaveTextContent('Imported: 5 changes');
    expect(q('#save')).toBeDisabled();
    // Undo in the status, and in the toolbar.
    expect(q('#undo-import-inline')).toHaveTextContent('Undo');
    expect(q('#undo-import')).toHaveTextContent('Undo last import');

    mocked.undoImport.mockResolvedValue(structuredClone(saved));
    await user.click(q('#undo-import-inline')!);
    await waitFor(() => expect(q('#status')).toHaveTextContent('Import undone'));
    expect(mocked.undoImport).toHaveBeenCalledTimes(1);
    expect(q<HTMLInputElement>('[data-key="global.host"]')).toHaveValue('smtp.example.com');
    expect(q('#undo-import')).toBeNull();
    expect(q('#undo-import-inline')).toBeNull();
  });

  it('the status says what the import did until the next edit', async () => {
    const { user } = await start();
    mocked.chooseImport.mockResolvedValue({ token: 'a', name: 'a.json', needs_passphrase: false });
    mocked.previewImport.mockResolvedValue(structuredClone(importPreview));
    mocked.applyImport.mockResolvedValue(structuredClone(imported));
    await user.click(q('#import-open')!);
    await user.click(await screen.findByRole('button', { name: 'Apply import' }));
    await waitFor(() => expect(q('#status')).toHaveTextContent('Imported: 5 changes'));
    await user.type(q('[data-key="global.sender.name"]')!, 'IT');
    expect(q('#status')).toHaveTextContent('Unsaved changes');
    expect(q('#undo-import-inline')).toBeNull();
    expect(q('#undo-import')).toBeInTheDocument();
  });

  it('asks before an import replaces unsaved changes', async () => {
    const { user } = await start();
    await user.type(q('[data-key="global.sender.name"]')!, 'IT');
    mocked.chooseImport.mockResolvedValue({ token: 'a', name: 'a.json', needs_passphrase: false });
    await user.click(q('#import-open')!);
    const confirm = await screen.findByRole('dialog', { name: 'Replace unsaved changes?' });
    expect(confirm).toHaveTextContent('Importing replaces your unsaved changes');
    expect(q('#import-confirm-cancel')).toHaveFocus();
    await user.keyboard('{Escape}');
    expect(q('#import-confirm')).toBeNull();
    expect(mocked.previewImport).not.toHaveBeenCalled();
    expect(q('[data-key="global.sender.name"]')).toHaveValue('IT');

    mocked.previewImport.mockResolvedValue({ changes: [], secrets_missing: [], encrypted_secrets: false, redirects: [], locked: [], token: 'a' });
    await user.click(q('#import-open')!);
    await user.click(await screen.findByRole('button', { name: 'Discard and import' }));
    expect(await screen.findByText('No changes')).toBeInTheDocument();
    await user.click(q('#import-cancel')!);
    expect(q('#import-preview')).toBeNull();
    // Cancelled: the unsaved changes are still there.
    expect(q('[data-key="global.sender.name"]')).toHaveValue('IT');
  });

  it('lists every problem of an invalid file with its key', async () => {
    const { user } = await start();
    mocked.chooseImport.mockResolvedValue({ token: 'bad', name: 'bad.json', needs_passphrase: false });
    mocked.previewImport.mockRejectedValue({
      message: 'global.port: must be a whole number from 1 to 65535\nsupport.address: is not an e-mail address',
      problems: [
        { key: 'global.port', severity: 'error', message: 'must be a whole number from 1 to 65535' },
        { key: 'support.address', severity: 'error', message: 'is not an e-mail address' },
      ],
    });
    await user.click(q('#import-open')!);
    const errors = await screen.findByRole('alertdialog', { name: 'bad.json cannot be imported' });
    expect(errors).toHaveAttribute('id', 'import-errors');
    expect(q('[data-import-problem-key="global.port"]')).toHaveTextContent('global.port: must be a whole number from 1 to 65535');
    expect(q('[data-import-problem-key="support.address"]')).toHaveTextContent('support.address: is not an e-mail address');
    await user.click(within(errors).getByRole('button', { name: 'Close' }));
    expect(q('#import-errors')).toBeNull();
    expect(mocked.applyImport).not.toHaveBeenCalled();
  });

  it('handles the File menu', async () => {
    await start(makeForm(saved.values, { secrets: saved.secrets, can_undo_import: true }));
    await waitFor(() => expect(menuHandler).toBeDefined());
    menuHandler!('export');
    expect(await screen.findByRole('dialog', { name: 'Export settings' })).toBeInTheDocument();
    await userEvent.keyboard('{Escape}');
    expect(q('#export-dialog')).toBeNull();

    mocked.undoImport.mockResolvedValue(structuredClone(saved));
    menuHandler!('undo-import');
    await waitFor(() => expect(q('#status')).toHaveTextContent('Import undone'));

    mocked.chooseImport.mockResolvedValue(null);
    menuHandler!('import');
    await waitFor(() => expect(mocked.chooseImport).toHaveBeenCalledTimes(1));
  });

  it('shows an overlay while a file is dragged over and imports the dropped file', async () => {
    await start();
    await waitFor(() => expect(dropHandler).toBeDefined());
    dropHandler!({ type: 'enter', paths: ['/home/admin/office.json'] });
    expect(await screen.findByText('Drop to import settings')).toBeInTheDocument();
    dropHandler!({ type: 'leave' });
    await waitFor(() => expect(q('#drop-overlay')).toBeNull());

    mocked.openDropped.mockResolvedValue({ token: 'dropped-token', name: 'office.json', needs_passphrase: false });
    mocked.previewImport.mockResolvedValue(structuredClone(importPreview));
    dropHandler!({ type: 'enter', paths: ['/home/admin/office.json'] });
    dropHandler!({ type: 'over' });
    // The Rust side recorded the drop: the page gets an id and a name, never a path to give back.
    dropHandler!({ type: 'drop', id: 'drop-1', name: 'office.json' });
    expect(await screen.findByRole('dialog', { name: 'Import office.json?' })).toBeInTheDocument();
    expect(q('#drop-overlay')).toBeNull();
    expect(mocked.chooseImport).not.toHaveBeenCalled();
    expect(mocked.openDropped).toHaveBeenCalledWith('drop-1');
    expect(mocked.previewImport).toHaveBeenCalledWith('dropped-token', null);
  });

  it('lists what the import would send elsewhere and applies it only with the checkbox', async () => {
    const { user } = await start();
    mocked.chooseImport.mockResolvedValue({ token: 't', name: 'evil.json', needs_passphrase: false });
    const message = 'global.host: the stored password of global will now go to smtp.evil.test:587 (starttls)';
    mocked.previewImport.mockResolvedValue({
      ...structuredClone(importPreview),
      redirects: [{ key: 'global.host', scope: 'global', what: 'password', to: 'smtp.evil.test:587 (starttls)', message }],
    });
    mocked.applyImport.mockResolvedValue(structuredClone(imported));
    await user.click(q('#import-open')!);
    await screen.findByRole('dialog', { name: 'Import evil.json?' });
    expect(q('[data-redirect-key="global.host"]')).toHaveTextContent('the stored password of global will now go to smtp.evil.test:587');
    expect(q('#import-apply')).toBeDisabled();
    await user.click(q('#import-allow-redirect')!);
    expect(q('#import-apply')).toBeEnabled();
    await user.click(q('#import-apply')!);
    await waitFor(() => expect(mocked.applyImport).toHaveBeenCalledWith('t', null, true));
  });
});
