import { cleanup, render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { tick } from 'svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { deliveredReport, failedReport, makeForm, step } from '../../test/fixtures';
import * as api from '../api';
import type { Progress } from '../bindings/Progress';
import type { Report } from '../bindings/Report';
import { Editor } from '../editor.svelte';
import { reportText } from '../report';
import { MailTest } from '../testmail.svelte';
import TestMail from './TestMail.svelte';

// Every export of the api module becomes a vi.fn() (vitest automock).
vi.mock('../api');

const mocked = vi.mocked(api);

const saved = makeForm(
  {
    'global.enabled': 'true',
    'global.host': 'smtp.example.com',
    'global.port': '587',
    'global.auth': 'password',
    'global.username': 'mailer',
    'global.sender.address': 'it@example.com',
  },
  { secrets: { 'global.password': true, 'global.m365.client_secret': false } },
);

const q = <T extends HTMLElement = HTMLElement>(selector: string) => document.querySelector<T>(selector);
const rowStates = () => [...document.querySelectorAll<HTMLElement>('[data-step]')].map((li) => `${li.dataset.step}:${li.dataset.state}`);

/** The running test's progress channel and its answer, under the test's control. */
let emit: (p: Progress) => void;
let finish: (r: Report) => void;
let fail: (e: unknown) => void;

async function setup(remembered?: string) {
  mocked.getPref.mockResolvedValue(remembered);
  const editor = new Editor();
  await editor.load();
  const test = new MailTest();
  await test.loadRecipient();
  const user = userEvent.setup();
  render(TestMail, { props: { editor, test } });
  return { editor, test, user };
}

async function feed(...events: Progress[]) {
  for (const p of events) emit(p);
  await tick();
}

beforeEach(() => {
  vi.resetAllMocks();
  mocked.loadForm.mockResolvedValue(structuredClone(saved));
  mocked.preview.mockResolvedValue([]);
  mocked.setPref.mockResolvedValue();
  mocked.cancelTestMail.mockResolvedValue();
  mocked.testMail.mockImplementation(
    (_edits, _secrets, _to, onProgress) =>
      new Promise<Report>((resolve, reject) => {
        emit = onProgress;
        finish = resolve;
        fail = reject;
      }),
  );
});

afterEach(() => {
  cleanup();
});

describe('Send test mail', () => {
  it('offers the last recipient and tests the values in the form, saved or not', async () => {
    const { editor, user } = await setup('admin@example.com');
    const input = q<HTMLInputElement>('[data-test-mail-to]')!;
    expect(input).toHaveAttribute('type', 'email');
    expect(input).toHaveValue('admin@example.com');
    expect(screen.getByLabelText('Send a test mail to')).toBe(input);
    expect(mocked.getPref).toHaveBeenCalledWith('lastTestRecipient');

    editor.set('global.port', '465');
    editor.replaceSecret('global.password');
    editor.typeSecret('global.password', 'n3w');
    await user.clear(input);
    await user.type(input, 'ops@example.org');
    await user.click(q('#test-mail-send')!);

    expect(mocked.testMail).toHaveBeenCalledWith(
      { 'global.port': '465' },
      [{ key: 'global.password', value: 'n3w' }],
      'ops@example.org',
      expect.any(Function),
    );
    expect(mocked.setPref).toHaveBeenCalledWith('lastTestRecipient', 'ops@example.org');
    expect(mocked.save).not.toHaveBeenCalled();
    editor.dispose();
  });

  it('shows live steps, Cancel while running, then the failure with its hint, error and transcript', async () => {
    const { user } = await setup('nobody@example.org');
    expect(q('#test-mail-cancel')).toBeNull();
    expect(q('#test-mail-result')).toBeNull();

    await user.click(q('#test-mail-send')!);
    expect(q('#test-mail-send')).toBeDisabled();
    expect(q('#test-mail-cancel')).toBeVisible();
    await waitFor(() => expect(q('#test-mail-cancel')).toHaveFocus());

    const list = q('[aria-live="polite"]')!;
    expect(list.tagName).toBe('OL');

    await feed({ kind: 'started', stage: 'config' });
    expect(rowStates()).toEqual(['config:running']);
    expect(q('[data-step="config"] .spinner')).toBeInTheDocument();

    await feed(
      { kind: 'finished', step: step('config', true, 0, 'global server') },
      { kind: 'started', stage: 'ehlo' },
      { kind: 'finished', step: step('ehlo', true, 5, '250-smtp.example.com\n250 STARTTLS') },
      { kind: 'started', stage: 'tls' },
      { kind: 'finished', step: step('tls', true, 230, 'TLSv1.3') },
      { kind: 'started', stage: 'ehlo' },
    );
    expect(rowStates()).toEqual(['config:ok', 'ehlo:ok', 'tls:ok', 'ehlo:running']);
    const firstEhlo = document.querySelectorAll('[data-step="ehlo"]')[0];
    expect(firstEhlo).toHaveTextContent('EHLO / capabilities');
    expect(firstEhlo).toHaveTextContent('5 ms');
    expect(firstEhlo.querySelector('pre')!.textContent).toBe('250-smtp.example.com\n250 STARTTLS');
    expect(within(list).getAllByText('✓')).toHaveLength(3);

    await feed({ kind: 'finished', step: step('ehlo', true, 6, '') }, { kind: 'started', stage: 'rcpt_to' });
    await feed({ kind: 'finished', step: step('rcpt_to', false, 70, '<nobody@example.org>: 550 5.1.1 User unknown') });
    expect(q('[data-step="rcpt_to"]')).toHaveAttribute('data-state', 'failed');
    expect(q('#test-mail-cancel')).toBeVisible(); // still running until the report comes

    finish(structuredClone(failedReport));
    await waitFor(() => expect(q('#test-mail-result')).toBeInTheDocument());
    const result = q('#test-mail-result')!;
    expect(result).toHaveAttribute('data-ok', 'false');
    expect(result).toHaveAttribute('role', 'alert');
    expect(result).toHaveTextContent('Failed at Recipient (RCPT TO)');
    expect(q('#test-mail-error')!.textContent).toBe(failedReport.error);
    expect(q('#test-mail-hint')!.textContent).toBe('Check the recipient address.');
    expect(q('#test-mail-hint')!.closest('p')).toHaveTextContent('What to do: Check the recipient address.');
    expect(q('#test-mail-cancel')).toBeNull();
    expect(q('#test-mail-send')).toBeEnabled();
    await waitFor(() => expect(q('#test-mail-send')).toHaveFocus());

    // The list is now the report's steps, in order, a repeated stage twice.
    expect(rowStates()).toEqual(failedReport.steps.map((s) => `${s.stage}:${s.ok ? 'ok' : 'failed'}`));
    expect(document.querySelectorAll('[data-step="ehlo"]')).toHaveLength(2);

    const transcript = q<HTMLDetailsElement>('#test-mail-transcript')!;
    expect(transcript.tagName).toBe('DETAILS');
    expect(transcript.open).toBe(false);
    expect(within(transcript).getByText('Transcript (7 lines)')).toBeInTheDocument();

    mocked.copyText.mockResolvedValue(true);
    await user.click(q('#test-mail-copy')!);
    expect(mocked.copyText).toHaveBeenCalledWith(reportText(failedReport));
    await waitFor(() => expect(q('#test-mail-copy')).toHaveTextContent('Copied'));
  });

  it('cancels a running test and shows what the backend says', async () => {
    const { user } = await setup('ops@example.org');
    await user.click(q('#test-mail-send')!);
    await feed({ kind: 'started', stage: 'connect' });
    await user.click(q('#test-mail-cancel')!);
    expect(mocked.cancelTestMail).toHaveBeenCalledTimes(1);
    expect(q('#test-mail-cancel')).toHaveTextContent('Cancelling…');

    finish({ ...failedReport, steps: [], failed_stage: 'connect', failure_kind: 'cancelled', error: 'Cancelled by the administrator.', hint: null, transcript: [] });
    await waitFor(() => expect(q('#test-mail-result')).toHaveAttribute('data-ok', 'false'));
    expect(q('#test-mail-error')).toHaveTextContent('Cancelled');
    expect(q('#test-mail-hint')).toBeNull();
    expect(q('#test-mail-transcript')).toBeNull();
    expect(q('#test-mail-cancel')).toBeNull();
    expect(rowStates()).toEqual([]);
  });

  it('shows a delivered test as a status, and an unexpected error as an alert', async () => {
    const { user } = await setup('ops@example.org');
    await user.click(q('#test-mail-send')!);
    finish(structuredClone(deliveredReport));
    await waitFor(() => expect(q('#test-mail-result')).toHaveAttribute('data-ok', 'true'));
    expect(q('#test-mail-result')).toHaveAttribute('role', 'status');
    expect(q('#test-mail-result')).toHaveTextContent('Delivered');
    expect(q('#test-mail-result')).toHaveTextContent('The server accepted the message for ops@example.org.');
    expect(q('#test-mail-hint')).toBeNull();

    await user.click(q('#test-mail-send')!);
    expect(q('#test-mail-result')).toBeNull(); // the old result goes when a new test starts
    await feed({ kind: 'started', stage: 'dns' });
    fail('the test_mail command is not allowed');
    await waitFor(() => expect(q('#test-mail-result')).toHaveAttribute('data-ok', 'false'));
    expect(q('#test-mail-result')).toHaveAttribute('role', 'alert');
    expect(q('#test-mail-error')).toHaveTextContent('the test_mail command is not allowed');
    expect(rowStates()).toEqual(['dns:failed']);
  });

  it('asks for a recipient instead of sending to nobody', async () => {
    const { user } = await setup();
    const input = q<HTMLInputElement>('[data-test-mail-to]')!;
    expect(input).toHaveValue('');
    await user.click(q('#test-mail-send')!);
    expect(mocked.testMail).not.toHaveBeenCalled();
    expect(input).toHaveFocus();
    expect(input).toHaveAttribute('aria-invalid', 'true');
    expect(screen.getByText('Type the address to send the test mail to.')).toBeInTheDocument();
    await user.type(input, 'ops@example.org{Enter}');
    expect(mocked.testMail).toHaveBeenCalledWith({}, [], 'ops@example.org', expect.any(Function));
  });

  it('still tests when the form has problems (the backend reports them at Settings)', async () => {
    const { editor, user } = await setup('ops@example.org');
    editor.problems = [{ key: 'global.host', severity: 'missing', message: 'required when the mail server is used' }];
    await tick();
    expect(q('#test-mail-help')).toHaveTextContent('the test will stop at “Settings”');
    await user.click(q('#test-mail-send')!);
    expect(mocked.testMail).toHaveBeenCalledTimes(1);
    finish({
      ok: false,
      server: null,
      steps: [step('config', false, 0, 'global.host: required when the mail server is used')],
      failed_stage: 'config',
      error: 'global.host: required when the mail server is used',
      hint: 'Fix the settings marked in the window.',
      transcript: [],
    });
    await waitFor(() => expect(q('#test-mail-result')).toHaveTextContent('Failed at Settings'));
    expect(rowStates()).toEqual(['config:failed']);
  });
});
