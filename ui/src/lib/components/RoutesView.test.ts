import { cleanup, render, waitFor } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import * as api from '../api';
import type { Explanation } from '../bindings/Explanation';
import type { RouteRow } from '../bindings/RouteRow';
import type { SupportPreview } from '../bindings/SupportPreview';
import RoutesView from './RoutesView.svelte';
import SupportRequest from './SupportRequest.svelte';

vi.mock('../api');
const mocked = vi.mocked(api);
const q = <T extends HTMLElement = HTMLElement>(s: string) => document.querySelector<T>(s);

const routes: RouteRow[] = [
  { name: 'corp', from: '*@example.com', order: 10, enabled: true, host: 'corp.test' },
  { name: 'ceo', from: 'ceo@example.com', order: 20, enabled: true, host: 'vip.test' },
];

const explanation = (from: string | null): Explanation => ({
  sends: true,
  source: from ? 'route:ceo' : 'global',
  server: { host: 'vip.test', port: 25, security: 'none', auth: 'none', source: 'route:ceo' },
  from,
  route: from ? 'ceo' : null,
  candidates: from
    ? [
        { name: 'ceo', pattern: 'ceo@example.com', how: 'exact address', order: 20, enabled: true, wins: true },
        { name: 'corp', pattern: '*@example.com', how: 'domain', order: 10, enabled: true, wins: false },
      ]
    : [],
  reason: '',
  chain: ['The global mail server is on.'],
});

beforeEach(() => {
  vi.resetAllMocks();
  mocked.listRoutes.mockResolvedValue(routes);
  mocked.listClients.mockResolvedValue([{ id: 'acme', name: 'Acme', own_server: false, host: '' }]);
  mocked.explain.mockImplementation(async (_c, from) => explanation(from));
  mocked.reorderRoutes.mockResolvedValue();
});
afterEach(cleanup);

describe('Routes view', () => {
  it('highlights the winning route for the test address and client', async () => {
    const user = userEvent.setup();
    render(RoutesView);
    await waitFor(() => expect(q('[data-route="ceo"]')).not.toBeNull());
    await user.type(q('[data-explain-from]')!, 'ceo@example.com');
    await user.selectOptions(q<HTMLSelectElement>('[data-explain-client]')!, 'acme');
    await waitFor(() => expect(q('[data-route="ceo"]')?.dataset.winner).toBe('true'));
    expect(q('[data-route="corp"]')?.classList.contains('is-match')).toBe(true);
    expect(mocked.explain).toHaveBeenLastCalledWith('acme', 'ceo@example.com');
  });

  it('moves a route up with its button', async () => {
    const user = userEvent.setup();
    render(RoutesView);
    await waitFor(() => expect(q('[data-route-up="ceo"]')).not.toBeNull());
    expect(q<HTMLButtonElement>('[data-route-up="corp"]')!.disabled).toBe(true);
    await user.click(q('[data-route-up="ceo"]')!);
    expect(mocked.reorderRoutes).toHaveBeenCalledWith(['ceo', 'corp']);
  });
});

describe('Support request', () => {
  it('shows the exact message before sending exactly that preview', async () => {
    const user = userEvent.setup();
    const preview: SupportPreview = {
      draft: { client: null, subject: 'Help', message: 'Nothing arrives' },
      to: 'help@vendor.test',
      to_reason: 'the support address (support.address)',
      from: 'it@example.test',
      server: { host: 'smtp.example.test', port: 587, security: 'starttls', auth: 'password', source: 'global' },
      route_reason: '',
      attachment: 'Postdesk system information',
      raw: 'Subject: Help\r\nTo: help@vendor.test\r\n\r\nNothing arrives\r\n',
    };
    mocked.supportPreview.mockResolvedValue(preview);
    mocked.sendSupport.mockResolvedValue({ ok: true, server: preview.server, steps: [], failed_stage: null, error: null, hint: null, transcript: [] });
    render(SupportRequest);
    expect(q<HTMLButtonElement>('[data-support-send]')!.disabled).toBe(true);
    await user.type(q('[data-support-subject]')!, 'Help');
    await user.type(q('[data-support-message]')!, 'Nothing arrives');
    await user.click(q('[data-support-preview-button]')!);
    expect(mocked.supportPreview).toHaveBeenCalledWith({ client: null, subject: 'Help', message: 'Nothing arrives' });
    await waitFor(() => expect(q('[data-support-preview]')?.textContent).toBe('Subject: Help\nTo: help@vendor.test\n\nNothing arrives\n'));
    expect(q('[data-support-to]')?.textContent).toContain('System information is attached.');
    await user.click(q('[data-support-send]')!);
    expect(mocked.sendSupport).toHaveBeenCalledWith(preview);
    await waitFor(() => expect(q('[data-support-result]')?.dataset.supportResult).toBe('ok'));
  });
});
