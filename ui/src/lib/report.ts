// Pure logic of "Send test mail": stage names in words, the step list built from live
// progress, and the plain-text report for "Copy report". No DOM, no backend.

import type { Progress } from './bindings/Progress';
import type { Report } from './bindings/Report';
import type { Stage } from './bindings/Stage';
import type { Step } from './bindings/Step';

export const STAGE_LABELS: Readonly<Record<Stage, string>> = {
  config: 'Settings',
  receiver: 'Receiver login (before sending)',
  limits: 'Do-Not-Email list and daily limit',
  dns: 'DNS lookup',
  connect: 'Connect',
  banner: 'Server greeting',
  ehlo: 'EHLO / capabilities',
  tls: 'TLS',
  proxy: 'Proxy (CONNECT)',
  token: 'OAuth token',
  auth: 'Sign-in',
  mail_from: 'Sender (MAIL FROM)',
  rcpt_to: 'Recipient (RCPT TO)',
  data: 'Message (DATA)',
  graph: 'Graph sendMail',
  delivered: 'Delivered',
};

/** A stage in words; an unknown stage (a newer backend) as it is. */
export function stageLabel(stage: Stage | string): string {
  return (STAGE_LABELS as Record<string, string>)[stage] ?? stage;
}

/**
 * Milliseconds as a number. serde sends the `u64` as a JSON number; ts-rs types it `bigint`,
 * so either may arrive.
 */
export function millis(ms: number | bigint): number {
  return Number(ms);
}

export function formatMs(ms: number | bigint): string {
  return `${millis(ms)} ms`;
}

export type StepState = 'running' | 'ok' | 'failed';

/** One row of the step list: a stage under way, or a finished step. */
export interface StepRow {
  stage: Stage;
  state: StepState;
  ms: number | null;
  detail: string;
}

export function rowOf(step: Step): StepRow {
  return { stage: step.stage, state: step.ok ? 'ok' : 'failed', ms: millis(step.ms), detail: step.detail };
}

/**
 * The step list after one progress event, in arrival order. A stage may run more than once
 * (EHLO before and after STARTTLS): "finished" completes the latest running row of its stage,
 * or is added when its start was not seen.
 */
export function applyProgress(rows: readonly StepRow[], p: Progress): StepRow[] {
  if (p.kind === 'started') return [...rows, { stage: p.stage, state: 'running', ms: null, detail: '' }];
  const row = rowOf(p.step);
  for (let i = rows.length - 1; i >= 0; i--) {
    if (rows[i].stage === row.stage && rows[i].state === 'running') {
      return [...rows.slice(0, i), row, ...rows.slice(i + 1)];
    }
  }
  return [...rows, row];
}

/** The final list: the report's steps are the record of what happened. */
export function rowsOfReport(report: Report): StepRow[] {
  return report.steps.map(rowOf);
}

/** Rows still running when a test ended without a report (it could not run to the end). */
export function stopRunning(rows: readonly StepRow[]): StepRow[] {
  return rows.map((r) => (r.state === 'running' ? { ...r, state: 'failed' } : r));
}

/** A run stopped by the admin (the core says so by kind, not in words). */
export function isCancelled(report: Report): boolean {
  return !report.ok && report.failure_kind === 'cancelled';
}

/** The recipient to offer: the last one used, else nothing. */
export function defaultRecipient(remembered: unknown): string {
  return typeof remembered === 'string' ? remembered.trim() : '';
}

// --- Plain text, the same as Rust `Report::to_text` (core/src/diagnosis.rs) --------------

/** One step as a line: `✓ connect         12 ms  127.0.0.1:587`. */
export function stepLine(step: Step): string {
  const mark = step.ok ? '✓' : '✗';
  const detail = step.detail.split('\n').join(' | ');
  return `${mark} ${step.stage.padEnd(9)} ${String(millis(step.ms)).padStart(6)} ms  ${detail}`;
}

/** The report as plain text for the clipboard; no secret can be in it (see the Rust side). */
export function reportText(report: Report): string {
  let out = '';
  const s = report.server;
  out += s
    ? `Postdesk test mail via ${s.host}:${s.port} (security ${s.security}, auth ${s.auth}, from ${s.source})\n`
    : 'Postdesk test mail: no server would be used\n';
  for (const step of report.steps) out += stepLine(step) + '\n';
  if (report.failed_stage != null && report.error != null) {
    out += `\nFailed at ${report.failed_stage}: ${report.error}\n`;
    if (report.hint != null) out += `What to do: ${report.hint}\n`;
  } else if (report.ok) {
    out += '\nDelivered: the server accepted the message.\n';
  }
  if (report.transcript.length > 0) {
    out += '\nTranscript:\n';
    for (const line of report.transcript) out += line + '\n';
  }
  return out;
}
