import { describe, expect, it } from 'vitest';
import { deliveredReport, failedReport, step } from '../test/fixtures';
import type { Progress } from './bindings/Progress';
import type { Stage } from './bindings/Stage';
import {
  applyProgress,
  defaultRecipient,
  formatMs,
  isCancelled,
  reportText,
  rowsOfReport,
  STAGE_LABELS,
  stageLabel,
  stepLine,
  stopRunning,
  type StepRow,
} from './report';

const started = (stage: Stage): Progress => ({ kind: 'started', stage });
const finished = (stage: Stage, ok: boolean, ms: number, detail = ''): Progress => ({
  kind: 'finished',
  step: step(stage, ok, ms, detail),
});
const run = (events: Progress[]): StepRow[] => events.reduce<StepRow[]>(applyProgress, []);
const states = (rows: StepRow[]) => rows.map((r) => `${r.stage}:${r.state}`);

describe('step list from progress events', () => {
  it('shows a started stage as running and a finished one as ok or failed', () => {
    expect(states(run([started('dns')]))).toEqual(['dns:running']);
    const rows = run([started('dns'), finished('dns', true, 3, '192.0.2.25'), started('connect'), finished('connect', false, 10001)]);
    expect(states(rows)).toEqual(['dns:ok', 'connect:failed']);
    expect(rows[0]).toEqual({ stage: 'dns', state: 'ok', ms: 3, detail: '192.0.2.25' });
    expect(rows[1].ms).toBe(10001);
  });

  it('keeps a repeated stage as its own row, in arrival order', () => {
    const rows = run([
      started('ehlo'),
      finished('ehlo', true, 5, 'before'),
      started('tls'),
      finished('tls', true, 230),
      started('ehlo'),
    ]);
    expect(states(rows)).toEqual(['ehlo:ok', 'tls:ok', 'ehlo:running']);
    const done = applyProgress(rows, finished('ehlo', true, 6, 'after'));
    expect(states(done)).toEqual(['ehlo:ok', 'tls:ok', 'ehlo:ok']);
    expect(done.map((r) => r.detail)).toEqual(['before', '', 'after']);
  });

  it('adds a finished step whose start was not seen', () => {
    expect(states(run([finished('config', false, 0, 'global.host: required')]))).toEqual(['config:failed']);
    expect(states(run([started('dns'), finished('config', true, 0)]))).toEqual(['dns:running', 'config:ok']);
  });

  it('does not change the list it is given', () => {
    const rows = run([started('dns')]);
    applyProgress(rows, finished('dns', true, 1));
    expect(states(rows)).toEqual(['dns:running']);
  });

  it('takes the final list from the report, and stops rows left running', () => {
    const rows = rowsOfReport(failedReport);
    expect(rows).toHaveLength(failedReport.steps.length);
    expect(states(rows).filter((s) => s.startsWith('ehlo'))).toEqual(['ehlo:ok', 'ehlo:ok']);
    expect(rows.at(-1)).toMatchObject({ stage: 'rcpt_to', state: 'failed', ms: 70 });
    expect(states(stopRunning(run([finished('dns', true, 1), started('connect')])))).toEqual(['dns:ok', 'connect:failed']);
  });
});

describe('words', () => {
  it('names every stage for people', () => {
    expect(stageLabel('ehlo')).toBe('EHLO / capabilities');
    expect(stageLabel('rcpt_to')).toBe('Recipient (RCPT TO)');
    expect(stageLabel('config')).toBe('Settings');
    expect(stageLabel('graph')).toBe('Graph sendMail');
    expect(stageLabel('limits')).toBe('Do-Not-Email list and daily limit');
    expect(stageLabel('receiver')).toBe('Receiver login (before sending)');
    expect(stageLabel('something_new')).toBe('something_new');
    expect(Object.keys(STAGE_LABELS)).toHaveLength(16);
  });

  it('writes durations in milliseconds, from a number or a bigint', () => {
    expect(formatMs(12)).toBe('12 ms');
    expect(formatMs(BigInt(1500))).toBe('1500 ms');
  });

  it('recognises a cancelled test', () => {
    expect(isCancelled({ ...failedReport, error: 'Cancelled by the administrator.', failure_kind: 'cancelled' })).toBe(true);
    expect(isCancelled(failedReport)).toBe(false);
    expect(isCancelled(deliveredReport)).toBe(false);
  });
});

describe('default recipient', () => {
  it('is the last one used, else empty', () => {
    expect(defaultRecipient('admin@example.com')).toBe('admin@example.com');
    expect(defaultRecipient(' admin@example.com ')).toBe('admin@example.com');
    expect(defaultRecipient(undefined)).toBe('');
    expect(defaultRecipient(null)).toBe('');
    expect(defaultRecipient(42)).toBe('');
  });
});

describe('plain-text report (same as Rust Report::to_text)', () => {
  it('writes a step like step_line: mark, stage padded to 9, ms right-aligned to 6, detail on one line', () => {
    expect(stepLine(step('connect', true, 12, '192.0.2.25:587'))).toBe('✓ connect       12 ms  192.0.2.25:587');
    expect(stepLine(step('mail_from', false, 1234567, 'a\nb\nc'))).toBe('✗ mail_from 1234567 ms  a | b | c');
    expect(stepLine(step('tls', true, 0, ''))).toBe('✓ tls            0 ms  ');
  });

  it('writes a failed test with the server, steps, failure, hint and transcript', () => {
    const text = reportText({
      ...failedReport,
      steps: [step('dns', true, 3, 'smtp.example.com → 192.0.2.25'), step('ehlo', true, 5, '250-a\n250 b'), step('rcpt_to', false, 70, '550 no')],
      transcript: ['C: RCPT TO:<nobody@example.org>', 'S: 550 5.1.1 User unknown'],
    });
    expect(text).toBe(
      [
        'Postdesk test mail via smtp.example.com:587 (security starttls, auth password, from global)',
        '✓ dns            3 ms  smtp.example.com → 192.0.2.25',
        '✓ ehlo           5 ms  250-a | 250 b',
        '✗ rcpt_to       70 ms  550 no',
        '',
        'Failed at rcpt_to: 550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown',
        'What to do: Check the recipient address.',
        '',
        'Transcript:',
        'C: RCPT TO:<nobody@example.org>',
        'S: 550 5.1.1 User unknown',
        '',
      ].join('\n'),
    );
  });

  it('writes a delivered test', () => {
    expect(reportText(deliveredReport)).toBe(
      [
        'Postdesk test mail via smtp.example.com:587 (security starttls, auth password, from global)',
        '✓ connect       12 ms  192.0.2.25:587',
        '✓ data         210 ms  250 2.0.0 Ok: queued',
        '✓ delivered      0 ms  ',
        '',
        'Delivered: the server accepted the message.',
        '',
        'Transcript:',
        'C: DATA',
        'S: 250 2.0.0 Ok: queued',
        '',
      ].join('\n'),
    );
  });

  it('says when no server would be used, and leaves out what is missing', () => {
    const text = reportText({
      ok: false,
      server: null,
      steps: [step('config', false, 0, 'the mail server is off')],
      failed_stage: 'config',
      error: 'Use mail server is off',
      hint: null,
      transcript: [],
    });
    expect(text).toBe(
      'Postdesk test mail: no server would be used\n✗ config         0 ms  the mail server is off\n\nFailed at config: Use mail server is off\n',
    );
    // Failed without a stage or an error: neither a failure nor "Delivered".
    expect(reportText({ ok: false, server: null, steps: [], failed_stage: null, error: 'x', hint: 'y', transcript: [] })).toBe(
      'Postdesk test mail: no server would be used\n',
    );
  });
});
