import { cleanup, render, waitFor } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import App from './App.svelte';
import * as api from './lib/api';
import type { ClientRow } from './lib/bindings/ClientRow';
import ClientsView from './lib/components/ClientsView.svelte';
import RoutesView from './lib/components/RoutesView.svelte';
import { resetFocusTracking } from './lib/focus';
import { importPreview, makeForm } from './test/fixtures';

// Every dialog gives the focus back to the control that opened it, on Escape, Cancel and
// completion, and keeps it inside while open.
vi.mock('./lib/api');
const mocked = vi.mocked(api);
const q = <T extends Element = HTMLElement>(selector: string) => document.querySelector<T & HTMLElement>(selector);

// What a browser does and jsdom does not: a focused control that becomes inert (the window
// makes the page inert as soon as a dialog is asked for) or disabled loses the focus to the
// body. That is what lost the focus in the real window; without it these tests could not fail.
// The dialogs come in the chunk loaded on first use: load it once up front (slow under vitest).
beforeAll(async () => {
  await import('./lib/later');
}, 30_000);

// jsdom has no `inert` either: give it the reflected property browsers have.
if (!('inert' in HTMLElement.prototype)) {
  Object.defineProperty(HTMLElement.prototype, 'inert', {
    configurable: true,
    get(this: HTMLElement) {
      return this.hasAttribute('inert');
    },
    set(this: HTMLElement, on: boolean) {
      this.toggleAttribute('inert', !!on);
    },
  });
}
let observer: MutationObserver;
beforeEach(() => {
  observer = new MutationObserver(() => {
    const a = document.activeElement;
    if (a instanceof HTMLElement && (a.closest('[inert]') || (a as HTMLButtonElement).disabled)) a.blur();
  });
  observer.observe(document.body, { attributes: true, attributeFilter: ['inert', 'disabled'], subtree: true });
});
afterEach(() => {
  observer.disconnect();
  cleanup();
  resetFocusTracking();
});

const saved = makeForm({ 'global.enabled': 'true', 'global.host': 'smtp.example.com', 'global.port': '587' });

beforeEach(() => {
  vi.resetAllMocks();
  mocked.loadForm.mockResolvedValue(structuredClone(saved));
  mocked.preview.mockResolvedValue([]);
  mocked.getPref.mockResolvedValue(undefined);
  mocked.setPref.mockResolvedValue();
  mocked.onCloseRequested.mockResolvedValue(() => {});
  mocked.onMenu.mockResolvedValue(() => {});
  mocked.onDragDrop.mockResolvedValue(() => {});
});

async function start(form = saved) {
  mocked.loadForm.mockResolvedValue(structuredClone(form));
  const user = userEvent.setup();
  render(App);
  await waitFor(() => expect(document.body.dataset.ready).toBe('true'));
  return user;
}

/** Focuses `selector` by Tab, as a keyboard user gets there. */
async function tabTo(user: ReturnType<typeof userEvent.setup>, selector: string) {
  const target = q(selector)!;
  for (let i = 0; i < 60 && document.activeElement !== target; i++) await user.tab();
  expect(document.activeElement).toBe(target);
}

describe('Export and Import dialogs', () => {
  it('Escape in Export returns the focus to Export…', async () => {
    const user = await start();
    await tabTo(user, '#export-open');
    await user.keyboard('{Enter}');
    await waitFor(() => expect(q('[data-export-with-secrets]')).toHaveFocus());
    expect(q('.app')).toHaveAttribute('inert');
    await user.keyboard('{Escape}');
    await waitFor(() => expect(q('#export-dialog')).toBeNull());
    await waitFor(() => expect(q('#export-open')).toHaveFocus());
  });

  it('keeps the focus inside while open: Tab and Shift+Tab wrap around', async () => {
    const user = await start();
    await tabTo(user, '#export-open');
    await user.keyboard('{Enter}');
    await waitFor(() => expect(q('[data-export-with-secrets]')).toHaveFocus());
    await user.tab(); // Cancel
    await user.tab(); // Export…
    expect(q('#export-confirm')).toHaveFocus();
    await user.tab();
    expect(q('[data-export-with-secrets]')).toHaveFocus();
    await user.tab({ shift: true });
    expect(q('#export-confirm')).toHaveFocus();
  });

  it('Cancel and a finished export return the focus to Export…', async () => {
    const user = await start();
    await tabTo(user, '#export-open');
    await user.keyboard('{Enter}');
    await waitFor(() => expect(q('#export-cancel')).not.toBeNull());
    q('#export-cancel')!.focus();
    await user.keyboard('{Enter}');
    await waitFor(() => expect(q('#export-open')).toHaveFocus());

    mocked.exportConfig.mockResolvedValue('/home/admin/office.json');
    await user.keyboard('{Enter}');
    await waitFor(() => expect(q('#export-confirm')).not.toBeNull());
    q('#export-confirm')!.focus();
    await user.keyboard('{Enter}');
    await waitFor(() => expect(q('#export-dialog')).toBeNull());
    await waitFor(() => expect(q('#export-open')).toHaveFocus());
  });

  it('an import goes back to Import… after the preview is applied or cancelled', async () => {
    mocked.chooseImport.mockResolvedValue({ token: 't', name: 'office.json', needs_passphrase: false });
    mocked.previewImport.mockResolvedValue(importPreview);
    mocked.applyImport.mockResolvedValue(makeForm({ 'global.host': 'mail.example.org' }, { can_undo_import: true }));
    const user = await start();
    await tabTo(user, '#import-open');
    await user.keyboard('{Enter}');
    await waitFor(() => expect(q('#import-apply')).toHaveFocus());
    await user.keyboard('{Escape}');
    await waitFor(() => expect(q('#import-preview')).toBeNull());
    await waitFor(() => expect(q('#import-open')).toHaveFocus());

    await user.keyboard('{Enter}');
    await waitFor(() => expect(q('#import-apply')).toHaveFocus());
    await user.keyboard('{Enter}');
    await waitFor(() => expect(mocked.applyImport).toHaveBeenCalled());
    await waitFor(() => expect(q('#import-preview')).toBeNull());
    await waitFor(() => expect(q('#import-open')).toHaveFocus());
  });

  it('through several steps (passphrase, then errors) the focus still goes back to Import…', async () => {
    mocked.chooseImport.mockResolvedValue({ token: 't', name: 'office.json', needs_passphrase: true });
    mocked.previewImport.mockRejectedValue({ message: 'global.port: not a number', problems: [{ key: 'global.port', severity: 'error', message: 'not a number' }] });
    const user = await start();
    await tabTo(user, '#import-open');
    await user.keyboard('{Enter}');
    await waitFor(() => expect(q('[data-import-passphrase]')).toHaveFocus());
    await user.keyboard('some passphrase{Enter}');
    await waitFor(() => expect(q('#import-errors-close')).toHaveFocus());
    await user.keyboard('{Enter}');
    await waitFor(() => expect(q('#import-errors')).toBeNull());
    await waitFor(() => expect(q('#import-open')).toHaveFocus());
  });

  it('a preview whose Apply is disabled (a redirect to allow) starts on the first control, not on nothing', async () => {
    mocked.chooseImport.mockResolvedValue({ token: 't', name: 'office.json', needs_passphrase: false });
    mocked.previewImport.mockResolvedValue({
      ...importPreview,
      redirects: [{ key: 'global.host', scope: 'global', what: 'password', message: 'global.host: the stored password of global will now go to evil.test' }],
    } as typeof importPreview);
    const user = await start();
    await tabTo(user, '#import-open');
    await user.keyboard('{Enter}');
    await waitFor(() => expect(q('#import-preview')).not.toBeNull());
    await waitFor(() => expect(document.activeElement).not.toBe(document.body));
    expect(q('#import-preview')!.contains(document.activeElement)).toBe(true);
  });
});

describe('a dialog whose opener is gone or still busy when it closes', () => {
  it('undo over unsaved changes: the focus waits for the undo, then goes to Import… (Undo is gone)', async () => {
    let finish: (f: ReturnType<typeof makeForm>) => void = () => {};
    mocked.undoImport.mockImplementation(() => new Promise((resolve) => (finish = resolve)));
    const user = await start(makeForm(saved.values, { can_undo_import: true }));
    await user.type(q('[data-key="global.host"]')!, 'x'); // unsaved changes
    await tabTo(user, '#undo-import');
    await user.keyboard('{Enter}');
    await waitFor(() => expect(q('#import-confirm-cancel')).toHaveFocus());
    q('#import-confirm-ok')!.focus();
    await user.keyboard('{Enter}');
    await waitFor(() => expect(q('#import-confirm')).toBeNull());
    // Still undoing: Undo and Import are disabled, nothing can take the focus yet.
    await new Promise((r) => setTimeout(r, 200));
    expect(q<HTMLButtonElement>('#import-open')!.disabled).toBe(true);
    finish(makeForm(saved.values, { can_undo_import: false }));
    await waitFor(() => expect(q('#status')).toHaveTextContent('Import undone'));
    expect(q('#undo-import')).toBeNull();
    await waitFor(() => expect(q('#import-open')).toHaveFocus());
  });
});

describe('confirmation dialogs of the Clients and Routes views', () => {
  const rows: ClientRow[] = [
    { id: 'acme', name: 'Acme', own_server: false, host: '' },
    { id: 'beta', name: 'Beta', own_server: false, host: '' },
  ];

  beforeEach(() => {
    mocked.listClients.mockResolvedValue(rows);
    mocked.scopeForm.mockImplementation(async (prefix: string) => ({
      prefix,
      values: {},
      inherited: {},
      inherited_from: {},
      secrets: {},
      global_secrets: {},
      problems: [],
      locked: [],
      lock_reason: '',
    }));
    mocked.explain.mockResolvedValue({ sends: true, source: 'global', server: null, from: '', route: null, candidates: [], reason: '', chain: [] } as never);
  });

  it('Remove client: Escape returns to Remove…; removing goes to the list', async () => {
    const user = userEvent.setup();
    render(ClientsView);
    await waitFor(() => expect(q('[data-client-list]')).not.toBeNull());
    q('[data-client-list]')!.focus();
    await user.keyboard('{Enter}');
    await waitFor(() => expect(q('[data-client-remove="acme"]')).not.toBeNull());
    q('[data-client-remove="acme"]')!.focus();
    await user.keyboard('{Enter}');
    await waitFor(() => expect(q('#remove-client-dialog')).not.toBeNull());
    expect(q('#remove-client-dialog')!.contains(document.activeElement)).toBe(true);
    await user.keyboard('{Escape}');
    await waitFor(() => expect(q('[data-client-remove="acme"]')).toHaveFocus());

    await user.keyboard('{Enter}');
    await waitFor(() => expect(q('[data-confirm-remove="acme"]')).not.toBeNull());
    mocked.removeClient.mockResolvedValue();
    mocked.listClients.mockResolvedValue(rows.slice(1));
    q('[data-confirm-remove="acme"]')!.focus();
    await user.keyboard('{Enter}');
    await waitFor(() => expect(q('[data-client-remove]')).toBeNull());
    // Its Remove… button is gone with it: the focus goes to the list.
    await waitFor(() => expect(q('[data-client-list]')).toHaveFocus());
  });

  it('Remove route: Escape returns to Remove…; adding a route puts the focus on its settings', async () => {
    mocked.listRoutes.mockResolvedValue([{ name: 'ceo', from: 'ceo@example.test', enabled: false, host: '', order: 10 }] as never);
    const user = userEvent.setup();
    render(RoutesView);
    await waitFor(() => expect(q('[data-route-remove="ceo"]')).not.toBeNull());
    q('[data-route-remove="ceo"]')!.focus();
    await user.keyboard('{Enter}');
    await waitFor(() => expect(q('#remove-route-dialog')).not.toBeNull());
    await user.keyboard('{Escape}');
    await waitFor(() => expect(q('[data-route-remove="ceo"]')).toHaveFocus());

    mocked.addRoute.mockResolvedValue();
    q('[data-new-route-name]')!.focus();
    await user.keyboard('billing');
    await user.tab();
    await user.keyboard('*@billing.example.test');
    await user.tab();
    expect(q('[data-route-add] button[type="submit"]')).toHaveFocus();
    await user.keyboard('{Enter}');
    await waitFor(() => expect(q('[data-route-editor-title]')).toHaveFocus());
    expect(q('[data-route-editor-title]')!.textContent).toContain('billing');
  });
});
