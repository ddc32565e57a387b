// The state of "Send test mail": the recipient, the live step list, the result. It outlives
// the Base panel, so a test keeps running (and its result stays) while another section is shown.

import * as api from './api';
import type { Progress } from './bindings/Progress';
import type { Report } from './bindings/Report';
import type { SecretChange } from './bindings/SecretChange';
import { toFailure } from './form';
import { applyProgress, defaultRecipient, rowsOfReport, stopRunning, type StepRow } from './report';

export const RECIPIENT_PREF = 'lastTestRecipient';

export class MailTest {
  /** The recipient as typed. */
  to = $state('');
  rows = $state<StepRow[]>([]);
  running = $state(false);
  cancelling = $state(false);
  /** The backend's answer to the last test. */
  report = $state<Report | null>(null);
  /** Why the last test could not run at all (the call itself failed). */
  failure = $state<string | null>(null);
  /** Who the last test went to. */
  sentTo = $state('');

  #run = 0;
  #recipientTouched = false;

  /** Fills in the remembered recipient, unless the admin has typed one already. */
  async loadRecipient(): Promise<void> {
    const remembered = defaultRecipient(await api.getPref(RECIPIENT_PREF));
    if (!this.#recipientTouched && this.to === '') this.to = remembered;
  }

  setRecipient(value: string): void {
    this.#recipientTouched = true;
    this.to = value;
  }

  /** Tests the given values (the form's, saved or not). Resolves when the test has ended. */
  async send(edits: Record<string, string>, secrets: SecretChange[]): Promise<void> {
    if (this.running) return;
    const to = this.to.trim();
    const run = ++this.#run;
    this.running = true;
    this.cancelling = false;
    this.rows = [];
    this.report = null;
    this.failure = null;
    this.sentTo = to;
    if (to !== '') void api.setPref(RECIPIENT_PREF, to);
    const onProgress = (p: Progress) => {
      if (run === this.#run && this.running) this.rows = applyProgress(this.rows, p);
    };
    try {
      const report = await api.testMail(edits, secrets, to, onProgress);
      if (run !== this.#run) return;
      this.report = report;
      this.rows = rowsOfReport(report);
    } catch (e) {
      if (run !== this.#run) return;
      this.failure = toFailure(e).message;
      this.rows = stopRunning(this.rows);
    } finally {
      if (run === this.#run) {
        this.running = false;
        this.cancelling = false;
      }
    }
  }

  async cancel(): Promise<void> {
    if (!this.running || this.cancelling) return;
    this.cancelling = true;
    try {
      await api.cancelTestMail();
    } catch (e) {
      console.warn('postdesk: the test could not be cancelled:', e);
      this.cancelling = false;
    }
  }

  /** Forgets a running test (the window is going away); its events and answer are dropped. */
  dispose(): void {
    this.#run++;
  }
}
