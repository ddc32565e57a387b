import { cleanup, render, screen, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { importPreview } from '../../test/fixtures';
import type { ImportPreview } from '../bindings/ImportPreview';
import ImportPreviewDialog from './ImportPreviewDialog.svelte';

const q = <T extends Element = HTMLElement>(selector: string) => document.querySelector<T & HTMLElement>(selector);

function show(preview: ImportPreview = importPreview, busy = false) {
  const onapply = vi.fn();
  const oncancel = vi.fn();
  const user = userEvent.setup();
  render(ImportPreviewDialog, { preview: structuredClone(preview), file: 'office.json', busy, onapply, oncancel });
  return { user, onapply, oncancel };
}

afterEach(cleanup);

describe('ImportPreviewDialog', () => {
  it('is a labelled modal that names the file', () => {
    show();
    const dialog = screen.getByRole('dialog', { name: 'Import office.json?' });
    expect(dialog).toHaveAttribute('id', 'import-preview');
    expect(dialog).toHaveAttribute('aria-modal', 'true');
    expect(dialog).toHaveAccessibleDescription(/5 changes/);
    expect(q('#import-apply')).toHaveFocus();
  });

  it('lists each change with its key and kind, grouped by kind', () => {
    show();
    const rows = [...document.querySelectorAll<HTMLElement>('[data-change-key]')];
    expect(rows.map((r) => [r.dataset.changeKey, r.dataset.changeKind])).toEqual([
      ['support.address', 'added'],
      ['global.host', 'changed'],
      ['global.port', 'changed'],
      ['global.username', 'removed'],
      ['global.password', 'secret_set'],
    ]);
    expect(screen.getByRole('heading', { name: /Changed settings/ })).toBeInTheDocument();

    const port = q('[data-change-key="global.port"]')!;
    expect(port).toHaveClass('is-changed');
    expect(within(port).getByText('Changed')).toHaveClass('change-badge', 'is-changed');
    expect(within(port).getByText('587').tagName).toBe('DEL');
    expect(within(port).getByText('465').tagName).toBe('INS');
    expect(port.querySelector('.change-key')).toHaveTextContent('global.port');
    expect(port).toHaveTextContent(/587\s*→.*465/);

    expect(q('[data-change-key="support.address"]')).toHaveTextContent('help@example.com');
    expect(q('[data-change-key="global.username"]')).toHaveTextContent('will be removed');
  });

  it('never shows a secret value, only that it will be set', () => {
    show({
      ...importPreview,
      changes: [{ key: 'global.password', kind: 'secret_set', old: 'old-s3cret', new: 'n3w-s3cret' }],
    });
    const row = q('[data-change-key="global.password"]')!;
    expect(row).toHaveTextContent('will be set');
    expect(within(row).getByText('Secret')).toHaveClass('is-secret_set');
    expect(document.body.textContent).not.toContain('s3cret');
  });

  it('names the secrets to set after importing', () => {
    show();
    expect(q('#import-secrets-missing')).toHaveTextContent('Set this after importing: global.m365.client_secret');
  });

  it('lists the keys the policy locks and cannot be applied', () => {
    show({ ...importPreview, locked: ['global.host', 'client.acme.host'] });
    const items = [...document.querySelectorAll<HTMLElement>('[data-locked-key]')].map((li) => li.dataset.lockedKey);
    expect(items).toEqual(['global.host', 'client.acme.host']);
    expect(q('#import-locked')).toHaveTextContent('Set by your organization');
    expect(q('#import-apply')).toBeDisabled();
  });

  it('says "No changes" when there are none', () => {
    show({ changes: [], secrets_missing: [], encrypted_secrets: false, redirects: [], locked: [], token: 't' });
    expect(screen.getByText('No changes')).toBeInTheDocument();
    expect(q('[data-change-key]')).toBeNull();
    expect(q('#import-secrets-missing')).toBeNull();
    expect(q('#import-apply')).toBeEnabled();
  });

  it('applies, cancels, and closes with Escape', async () => {
    const { user, onapply, oncancel } = show();
    await user.click(q('#import-apply')!);
    expect(onapply).toHaveBeenCalledTimes(1);
    await user.click(q('#import-cancel')!);
    expect(oncancel).toHaveBeenCalledTimes(1);
    q('#import-apply')!.focus();
    await user.keyboard('{Escape}');
    expect(oncancel).toHaveBeenCalledTimes(2);
  });

  it('keeps the focus inside', async () => {
    const { user } = show();
    const dialog = q('#import-preview')!;
    for (let i = 0; i < 4; i++) {
      await user.tab();
      expect(dialog).toContainElement(document.activeElement as HTMLElement);
    }
  });

  it('while applying, cannot be applied again or cancelled', async () => {
    const { user, oncancel } = show(importPreview, true);
    expect(q('#import-apply')).toBeDisabled();
    expect(q('#import-apply')).toHaveTextContent('Importing…');
    expect(q('#import-cancel')).toBeDisabled();
    q('#import-preview')!.focus();
    await user.keyboard('{Escape}');
    expect(oncancel).not.toHaveBeenCalled();
  });
});
