import { cleanup, render, screen, waitFor } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import * as api from '../api';
import type { DneView } from '../bindings/DneView';
import { countText, filterEntries } from '../adminviews';
import DoNotEmail from './DoNotEmail.svelte';

vi.mock('../api');
const mocked = vi.mocked(api);

const base: DneView = { entries: ['*@blocked.test', 'bob@example.com'], max_per_day: 100, ignore_dne_for: 'none', sent_last_24h: 12 };
const q = <T extends HTMLElement = HTMLElement>(s: string) => document.querySelector<T>(s);
const shown = () => [...document.querySelectorAll<HTMLElement>('[data-dne-entry]')].map((li) => li.dataset.dneEntry);

beforeEach(() => {
  vi.resetAllMocks();
  mocked.dneView.mockResolvedValue(structuredClone(base));
});
afterEach(cleanup);

describe('helpers', () => {
  it('count and search', () => {
    expect(countText(12, 100)).toBe('12 of 100 mails in the last 24 hours');
    expect(countText(1, 0)).toBe('1 mail in the last 24 hours (no daily limit)');
    expect(filterEntries(['*@Blocked.test', 'bob@x.test'], ' BLOCK ')).toEqual(['*@Blocked.test']);
  });
});

describe('DoNotEmail', () => {
  it('shows the list, the count and the limit', async () => {
    render(DoNotEmail);
    await waitFor(() => expect(shown()).toEqual(['*@blocked.test', 'bob@example.com']));
    expect(q('#dne-count')?.textContent).toBe('12 of 100 mails in the last 24 hours');
    expect(q<HTMLInputElement>('#dne-max')?.value).toBe('100');
    expect(q<HTMLInputElement>('[data-choice="none"]')).toBeChecked();
  });

  it('adds, names a bad entry and removes', async () => {
    const user = userEvent.setup();
    render(DoNotEmail);
    await screen.findByText('bob@example.com');
    mocked.dneAdd.mockResolvedValueOnce({ ...base, entries: ['*@blocked.test', 'bob@example.com', 'carol@x.test'] });
    await user.type(q('#dne-new')!, 'Carol@X.test');
    await user.click(q('#dne-add')!);
    expect(mocked.dneAdd).toHaveBeenCalledWith(['Carol@X.test']);
    await waitFor(() => expect(shown()).toContain('carol@x.test'));
    expect(q<HTMLInputElement>('#dne-new')?.value).toBe('');
    mocked.dneAdd.mockRejectedValueOnce({ message: 'dne: nope: is not an address', problems: [{ key: 'dne', severity: 'error', message: 'nope: is not an address' }] });
    await user.type(q('#dne-new')!, 'nope');
    await user.click(q('#dne-add')!);
    await waitFor(() => expect(q('#dne-error')?.textContent).toContain('nope: is not an address'));
    expect(q<HTMLInputElement>('#dne-new')?.value).toBe('nope');
    mocked.dneRemove.mockResolvedValueOnce({ ...base, entries: ['*@blocked.test'] });
    await user.click(q('[data-dne-remove="bob@example.com"]')!);
    expect(mocked.dneRemove).toHaveBeenCalledWith(['bob@example.com']);
    await waitFor(() => expect(shown()).toEqual(['*@blocked.test']));
  });

  it('searches without changing the list', async () => {
    const user = userEvent.setup();
    render(DoNotEmail);
    await screen.findByText('bob@example.com');
    await user.type(q('#dne-search')!, 'BOB');
    expect(shown()).toEqual(['bob@example.com']);
    expect(mocked.dneRemove).not.toHaveBeenCalled();
  });

  it('imports a CSV chosen in the dialog and lists its bad lines', async () => {
    const user = userEvent.setup();
    render(DoNotEmail);
    await screen.findByText('bob@example.com');
    // The file is chosen in a native dialog on the Rust side: the page names no path.
    mocked.dneImport.mockRejectedValueOnce({ message: 'bad', problems: [{ key: 'line 3', severity: 'error', message: 'is not an address' }] });
    await user.click(q('#dne-import')!);
    expect(mocked.dneImport).toHaveBeenCalledWith();
    await waitFor(() => expect(q('[data-dne-problem="line 3"]')?.textContent).toContain('line 3: is not an address'));
    expect(q('#dne-error')?.textContent).toContain('Nothing was added.');
    mocked.dneExport.mockResolvedValue({ count: 2, file: '/tmp/out.csv' });
    await user.click(q('#dne-export')!);
    await waitFor(() => expect(q('#dne-notice')?.textContent).toBe('Exported 2 entries to /tmp/out.csv.'));
  });

  it('saves the limit and the ignore choice, and shows a refused value under its field', async () => {
    const user = userEvent.setup();
    render(DoNotEmail);
    await screen.findByText('bob@example.com');
    const max = q<HTMLInputElement>('#dne-max')!;
    await user.clear(max);
    await user.type(max, 'lots');
    mocked.saveLimits.mockRejectedValueOnce({ message: 'x', problems: [{ key: 'limits.max_per_day', severity: 'error', message: 'must be a whole number from 0 to 1000000 (0 = no limit)' }] });
    await user.click(q('#dne-limits-save')!);
    await waitFor(() => expect(max).toHaveAttribute('aria-invalid', 'true'));
    expect(screen.getByText('must be a whole number from 0 to 1000000 (0 = no limit)')).toBeTruthy();
    await user.clear(max);
    await user.type(max, '5');
    await user.click(q('[data-choice="priority"]')!);
    mocked.saveLimits.mockResolvedValueOnce({ ...base, max_per_day: 5, ignore_dne_for: 'priority' });
    await user.click(q('#dne-limits-save')!);
    expect(mocked.saveLimits).toHaveBeenLastCalledWith('5', 'priority');
    await waitFor(() => expect(q('#dne-count')?.textContent).toBe('12 of 5 mails in the last 24 hours'));
  });
});
