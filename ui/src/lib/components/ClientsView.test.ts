import { cleanup, render, screen, waitFor } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import * as api from '../api';
import type { ClientRow } from '../bindings/ClientRow';
import type { Explanation } from '../bindings/Explanation';
import type { ScopeForm } from '../bindings/ScopeForm';
import ClientsView from './ClientsView.svelte';

vi.mock('../api');
const mocked = vi.mocked(api);

const q = <T extends HTMLElement = HTMLElement>(s: string) => document.querySelector<T>(s);
const many = (n: number): ClientRow[] =>
  Array.from({ length: n }, (_, i) => ({ id: `c${String(i).padStart(5, '0')}`, name: `Client ${i}`, own_server: i % 2 === 0, host: '' }));

const scope = (host = ''): ScopeForm => ({
  prefix: 'client.c00001',
  values: { 'client.c00001.name': 'Client 1', 'client.c00001.host': host, 'client.c00001.port': '' },
  inherited: { 'client.c00001.name': '', 'client.c00001.host': 'smtp.example.test', 'client.c00001.port': '587' },
  inherited_from: { 'client.c00001.name': 'default', 'client.c00001.host': 'global', 'client.c00001.port': 'global' },
  secrets: {},
  global_secrets: {},
  problems: [],
  locked: [],
  lock_reason: '',
});

const explanation = (source: string): Explanation => ({
  sends: true,
  source,
  server: { host: 'smtp.example.test', port: 587, security: 'starttls', auth: 'none', source },
  from: 'it@example.test',
  route: null,
  candidates: [],
  reason: '',
  chain: ['The global mail server is on.', `⇒ Sent through ${source}.`],
});

beforeEach(() => {
  vi.resetAllMocks();
  mocked.listClients.mockResolvedValue(many(10_000));
  mocked.scopeForm.mockResolvedValue(scope());
  mocked.explain.mockResolvedValue(explanation('global'));
});
afterEach(cleanup);

describe('Clients view', () => {
  it('renders only a window of 10,000 clients and filters them', async () => {
    const user = userEvent.setup();
    render(ClientsView);
    await waitFor(() => expect(q('[data-clients-count]')?.dataset.clientsCount).toBe('10000'));
    expect(document.querySelectorAll('[data-client]').length).toBeLessThan(40);
    await user.type(q('[data-clients-search]')!, 'client 123');
    expect(q('[data-clients-count]')?.dataset.clientsCount).toBe('11'); // 123, 1230–1239
    expect(q('[data-client="c00123"]')).not.toBeNull();
  });

  it('adds a client with an ID suggested from its name', async () => {
    const user = userEvent.setup();
    mocked.addClient.mockResolvedValue();
    render(ClientsView);
    await user.type(q('[data-new-client-name]')!, 'Acme Corp');
    expect(q<HTMLInputElement>('[data-new-client-id]')!.value).toBe('acme-corp');
    await user.click(screen.getByRole('button', { name: 'Add' }));
    expect(mocked.addClient).toHaveBeenCalledWith('acme-corp', 'Acme Corp');
  });

  it('shows inherited values greyed with their origin, overrides and saves one', async () => {
    const user = userEvent.setup();
    render(ClientsView);
    await waitFor(() => expect(q('[data-client="c00001"]')).not.toBeNull());
    await user.click(q('[data-client="c00001"]')!);
    await waitFor(() => expect(q('[data-inherited="client.c00001.host"]')).not.toBeNull());
    expect(q('[data-inherited="client.c00001.host"]')!.textContent).toContain('smtp.example.test');
    expect(q('[data-inherited="client.c00001.host"]')!.textContent).toContain('from global');
    await user.click(q('[data-override="client.c00001.host"]')!);
    const input = q<HTMLInputElement>('input[data-key="client.c00001.host"]')!;
    expect(input.value).toBe('smtp.example.test');
    await user.clear(input);
    await user.type(input, 'smtp.acme.test');
    mocked.saveScope.mockResolvedValue(scope('smtp.acme.test'));
    mocked.explain.mockResolvedValue(explanation('client:c00001'));
    await user.click(q('[data-scope-save]')!);
    expect(mocked.saveScope).toHaveBeenCalledWith('client.c00001', { 'client.c00001.host': 'smtp.acme.test' });
    await waitFor(() => expect(q('[data-explain-source]')?.dataset.explainSource).toBe('client:c00001'));
    await user.click(q('[data-reset="client.c00001.host"]')!);
    expect(q('[data-inherited="client.c00001.host"]')).not.toBeNull();
  });

  it("shows a key the organization's policy locks with its value and the lock, without Override or Reset", async () => {
    const user = userEvent.setup();
    mocked.scopeForm.mockResolvedValue({ ...scope('smtp.acme.test'), locked: ['client.c00001.host'], lock_reason: 'set by your organization (policy /etc/postdesk/policy.json)' });
    render(ClientsView);
    await waitFor(() => expect(q('[data-client="c00001"]')).not.toBeNull());
    await user.click(q('[data-client="c00001"]')!);
    await waitFor(() => expect(q('[data-lock="client.c00001.host"]')).not.toBeNull());
    expect(q('[data-lock="client.c00001.host"]')!.textContent).toContain('Set by your organization');
    expect(q('[data-lock="client.c00001.host"]')!.getAttribute('title')).toContain('policy.json');
    expect(q('[data-locked-value="client.c00001.host"]')!.textContent).toContain('smtp.acme.test');
    expect(q('[data-override="client.c00001.host"]')).toBeNull();
    expect(q('[data-reset="client.c00001.host"]')).toBeNull();
    expect(q('[data-key="client.c00001.host"]')).toBeNull();
    // Keys the policy leaves open stay editable.
    expect(q('[data-override="client.c00001.port"]')).not.toBeNull();
  });

  it('removes a client only after confirmation', async () => {
    const user = userEvent.setup();
    mocked.removeClient.mockResolvedValue();
    render(ClientsView);
    await waitFor(() => expect(q('[data-client="c00002"]')).not.toBeNull());
    await user.click(q('[data-client="c00002"]')!);
    await user.click(q('[data-client-remove="c00002"]')!);
    expect(mocked.removeClient).not.toHaveBeenCalled();
    await user.click(q('[data-confirm-remove="c00002"]')!);
    expect(mocked.removeClient).toHaveBeenCalledWith('c00002');
  });
});

describe('Clients list by keyboard (WAI-ARIA listbox)', () => {
  const activeOption = () => {
    const list = screen.getByRole('listbox', { name: 'Clients' });
    const id = list.getAttribute('aria-activedescendant');
    return id ? document.getElementById(id) : null;
  };

  it('moves with the arrows, Home/End, PageUp/PageDown and type-ahead among 5,000 clients, and Enter chooses', async () => {
    mocked.listClients.mockResolvedValue(many(5_000));
    const user = userEvent.setup();
    render(ClientsView);
    await waitFor(() => expect(q('[data-clients-count]')?.dataset.clientsCount).toBe('5000'));
    // Tab from the search field reaches the list; the first option becomes active.
    q('[data-clients-search]')!.focus();
    await user.tab();
    const list = screen.getByRole('listbox', { name: 'Clients' });
    expect(list).toHaveFocus();
    expect(activeOption()).toHaveAttribute('data-client', 'c00000');
    expect(activeOption()).toHaveAttribute('aria-selected', 'false');

    await user.keyboard('{ArrowDown}{ArrowDown}');
    expect(activeOption()).toHaveAttribute('data-client', 'c00002');
    await user.keyboard('{ArrowUp}');
    expect(activeOption()).toHaveAttribute('data-client', 'c00001');
    // The last one is far outside the rendered window: it is put in the page and scrolled to.
    await user.keyboard('{End}');
    expect(activeOption()).toHaveAttribute('data-client', 'c04999');
    expect(activeOption()).toHaveAttribute('aria-posinset', '5000');
    expect(activeOption()).toHaveAttribute('aria-setsize', '5000');
    expect(document.querySelectorAll('[data-client]').length).toBeLessThan(40);
    await user.keyboard('{ArrowDown}');
    expect(activeOption()).toHaveAttribute('data-client', 'c04999'); // stops at the end
    await user.keyboard('{Home}');
    expect(activeOption()).toHaveAttribute('data-client', 'c00000');
    await user.keyboard('{PageDown}'); // a page: 440 px of 44 px rows
    expect(activeOption()).toHaveAttribute('data-client', 'c00010');
    await user.keyboard('{PageUp}');
    expect(activeOption()).toHaveAttribute('data-client', 'c00000');

    // Type-ahead, spaces included, lands on the client whose name starts with it.
    await user.keyboard('Client 4321');
    expect(activeOption()).toHaveAttribute('data-client', 'c04321');
    expect(activeOption()).toHaveClass('is-active');
    expect(mocked.scopeForm).not.toHaveBeenCalled(); // moving does not choose

    await user.keyboard('{Enter}');
    expect(activeOption()).toHaveAttribute('aria-selected', 'true');
    await waitFor(() => expect(q('[data-client-title]')?.textContent).toContain('Client 4321'));
    expect(list).toHaveFocus();
    // Space chooses too (once no search is going on).
    await new Promise((r) => setTimeout(r, 600));
    await user.keyboard('{ArrowDown} ');
    await waitFor(() => expect(q('[data-client-title]')?.textContent).toContain('Client 4322'));
  });

  it('Down from the search goes into the list; a search matching nothing leaves no empty listbox', async () => {
    mocked.listClients.mockResolvedValue(many(30));
    const user = userEvent.setup();
    render(ClientsView);
    await waitFor(() => expect(q('[data-clients-count]')?.dataset.clientsCount).toBe('30'));
    await user.type(q('[data-clients-search]')!, 'client 2');
    await user.keyboard('{ArrowDown}');
    expect(screen.getByRole('listbox')).toHaveFocus();
    expect(activeOption()).toHaveAttribute('data-client', 'c00002');
    await user.keyboard('{ArrowDown}{Enter}');
    await waitFor(() => expect(q('[data-client-title]')?.textContent).toContain('Client 20'));

    await user.type(q('[data-clients-search]')!, 'zzz');
    expect(screen.queryByRole('listbox')).toBeNull();
    const note = screen.getByText('No client matches.');
    expect(note.closest('[role="listbox"]')).toBeNull();
  });
});
