import { cleanup, render, screen, waitFor } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { tick } from 'svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { makeForm, step } from '../../test/fixtures';
import * as api from '../api';
import type { Progress } from '../bindings/Progress';
import type { Report } from '../bindings/Report';
import { Editor } from '../editor.svelte';
import { ReceiverCheck } from '../receivercheck.svelte';
import ReceiverPanel from './ReceiverPanel.svelte';

vi.mock('../api');
const mocked = vi.mocked(api);

const saved = makeForm(
  {
    'global.enabled': 'true',
    'global.host': 'smtp.example.com',
    'global.sender.address': 'it@example.com',
    'receiver.enabled': 'true',
    'receiver.protocol': 'pop3s',
    'receiver.host': 'pop.example.com',
    'receiver.username': 'it@example.com',
  },
  { secrets: { 'global.password': false, 'global.m365.client_secret': false, 'receiver.password': true } },
);

const q = <T extends HTMLElement = HTMLElement>(selector: string) => document.querySelector<T>(selector);
const rowStates = () => [...document.querySelectorAll<HTMLElement>('[data-step]')].map((li) => `${li.dataset.step}:${li.dataset.state}`);

let emit: (p: Progress) => void;
let finish: (r: Report) => void;

const failed: Report = {
  ok: false,
  server: { host: 'pop.example.com', port: 995, security: 'pop3s', auth: 'password', source: 'receiver' },
  steps: [
    step('config', true, 0, 'pop3s pop.example.com:995 as it@example.com'),
    step('dns', true, 2, '192.0.2.110'),
    step('connect', true, 9, '192.0.2.110:995'),
    step('tls', true, 30, 'TLSv1_3'),
    step('banner', true, 1, '+OK Dovecot ready.'),
    step('auth', false, 8, '-ERR [AUTH] Authentication failed.'),
  ],
  failed_stage: 'auth',
  error: '-ERR [AUTH] Authentication failed.',
  hint: 'Username or password not accepted by the mailbox server.',
  transcript: ['S: +OK Dovecot ready.', 'C: USER it@example.com', 'S: +OK', 'C: PASS <redacted>', 'S: -ERR [AUTH] Authentication failed.'],
};

async function setup(form = saved) {
  mocked.loadForm.mockResolvedValue(structuredClone(form));
  const editor = new Editor();
  await editor.load();
  const check = new ReceiverCheck();
  const user = userEvent.setup();
  render(ReceiverPanel, { props: { editor, check } });
  return { editor, check, user };
}

beforeEach(() => {
  vi.resetAllMocks();
  mocked.preview.mockResolvedValue([]);
  mocked.cancelReceiverCheck.mockResolvedValue();
  mocked.receiverCheck.mockImplementation(
    (_edits, _secrets, onProgress) =>
      new Promise<Report>((resolve) => {
        emit = onProgress;
        finish = resolve;
      }),
  );
});

afterEach(() => cleanup());

describe('Receiver panel', () => {
  it('shows the receiver fields, the port placeholder of the chosen protocol, and the secret as set', async () => {
    const { user } = await setup();
    expect(screen.getByRole('heading', { name: /Receiver/ })).toBeInTheDocument();
    const port = q<HTMLInputElement>('[data-key="receiver.port"]')!;
    expect(port).toHaveAttribute('placeholder', '995');
    await user.selectOptions(q<HTMLSelectElement>('[data-key="receiver.protocol"]')!, 'imap-starttls');
    expect(port).toHaveAttribute('placeholder', '143');
    expect(q('[data-key="receiver.before_send"]')).not.toBeNull();
    expect(document.body.textContent).toContain('Set');
  });

  it('with the receiver off shows only the switch and no Validate', async () => {
    await setup(makeForm({ 'global.enabled': 'true' }));
    expect(q('[data-key="receiver.enabled"]')).not.toBeNull();
    expect(q('[data-key="receiver.host"]')).toBeNull();
    expect(q('#receiver-validate')).toBeNull();
  });

  it('is not offered when a sendmail program delivers', async () => {
    await setup(makeForm({ 'global.email_type': 'sendmail', 'receiver.enabled': 'true' }));
    expect(q('#receiver-panel')).toBeNull();
  });

  it('Validate logs in with the unsaved values, shows each step live, then the stage and hint', async () => {
    const { user } = await setup();
    const host = q<HTMLInputElement>('[data-key="receiver.host"]')!;
    await user.clear(host);
    await user.type(host, 'mail.example.com');
    await user.click(screen.getByRole('button', { name: 'Validate' }));
    expect(mocked.receiverCheck).toHaveBeenCalledTimes(1);
    expect(mocked.receiverCheck.mock.calls[0][0]).toMatchObject({ 'receiver.host': 'mail.example.com' });
    expect(screen.getByRole('button', { name: 'Validate' })).toBeDisabled();
    emit({ kind: 'started', stage: 'config' });
    emit({ kind: 'finished', step: failed.steps[0] });
    emit({ kind: 'started', stage: 'dns' });
    await tick();
    expect(rowStates()).toEqual(['config:ok', 'dns:running']);
    finish(failed);
    await waitFor(() => expect(q('#receiver-result')).not.toBeNull());
    expect(rowStates()).toEqual(['config:ok', 'dns:ok', 'connect:ok', 'tls:ok', 'banner:ok', 'auth:failed']);
    expect(q('#receiver-result')).toHaveAttribute('data-ok', 'false');
    expect(q('#receiver-result')!.textContent).toContain('Failed at Sign-in');
    expect(q('#receiver-hint')!.textContent).toBe('Username or password not accepted by the mailbox server.');
    expect(screen.getByRole('button', { name: 'Validate' })).toBeEnabled();
  });

  it('a successful login says so', async () => {
    const { user } = await setup();
    await user.click(screen.getByRole('button', { name: 'Validate' }));
    finish({ ...failed, ok: true, steps: [...failed.steps.slice(0, 5), step('auth', true, 7, 'USER/PASS: +OK Logged in.')], failed_stage: null, error: null, hint: null });
    await waitFor(() => expect(q('#receiver-result')).toHaveAttribute('data-ok', 'true'));
    expect(q('#receiver-result')!.textContent).toContain('Logged in');
  });

  it('Cancel asks the backend to stop', async () => {
    const { user } = await setup();
    await user.click(screen.getByRole('button', { name: 'Validate' }));
    await user.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(mocked.cancelReceiverCheck).toHaveBeenCalledTimes(1);
  });
});
