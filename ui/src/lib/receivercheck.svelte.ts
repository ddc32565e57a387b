// The state of the receiver's "Validate": the live step list and the result. Like the test
// mail's, it outlives the Security panel, so a check keeps running while another section is shown.

import * as api from './api';
import type { Progress } from './bindings/Progress';
import type { Report } from './bindings/Report';
import type { SecretChange } from './bindings/SecretChange';
import { toFailure } from './form';
import { applyProgress, rowsOfReport, stopRunning, type StepRow } from './report';

export class ReceiverCheck {
  rows = $state<StepRow[]>([]);
  running = $state(false);
  cancelling = $state(false);
  /** The backend's answer to the last check. */
  report = $state<Report | null>(null);
  /** Why the last check could not run at all (the call itself failed). */
  failure = $state<string | null>(null);

  #run = 0;

  /** Logs in with the given values (the form's, saved or not). Resolves when the check has ended. */
  async validate(edits: Record<string, string>, secrets: SecretChange[]): Promise<void> {
    if (this.running) return;
    const run = ++this.#run;
    this.running = true;
    this.cancelling = false;
    this.rows = [];
    this.report = null;
    this.failure = null;
    const onProgress = (p: Progress) => {
      if (run === this.#run && this.running) this.rows = applyProgress(this.rows, p);
    };
    try {
      const report = await api.receiverCheck(edits, secrets, onProgress);
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
      await api.cancelReceiverCheck();
    } catch (e) {
      console.warn('postdesk: the check could not be cancelled:', e);
      this.cancelling = false;
    }
  }

  /** Forgets a running check (the window is going away). */
  dispose(): void {
    this.#run++;
  }
}
