// One running diagnosis (a test mail, a receiver check): the live step list, the result, and
// cancelling. It outlives the panel that started it, so switching sections does not stop it.
// `DiagnosisRunner.svelte` shows it: the run and Cancel buttons, the steps and the result.

import type { Progress } from './bindings/Progress';
import type { Report } from './bindings/Report';
import { toFailure } from './errors';
import { applyProgress, rowsOfReport, stopRunning, type StepRow } from './report';

export abstract class DiagnosisRun {
  rows = $state<StepRow[]>([]);
  running = $state(false);
  cancelling = $state(false);
  /** The backend's answer to the last run. */
  report = $state<Report | null>(null);
  /** Why the last run could not happen at all (the call itself failed). */
  failure = $state<string | null>(null);

  #run = 0;

  /** Runs `call`, feeding its progress into the step list. Resolves when it has ended. */
  protected async start(call: (onProgress: (p: Progress) => void) => Promise<Report>): Promise<void> {
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
      const report = await call(onProgress);
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

  /** Asks the backend to stop the running call (the Cancel button). */
  abstract cancel(): Promise<void>;

  /** Asks the backend to stop the running call; it then answers with a "Cancelled" report. */
  protected async stop(cancel: () => Promise<void>, what: string): Promise<void> {
    if (!this.running || this.cancelling) return;
    this.cancelling = true;
    try {
      await cancel();
    } catch (e) {
      console.warn(`postdesk: the ${what} could not be cancelled:`, e);
      this.cancelling = false;
    }
  }

  /** Forgets a running call (the window is going away); its events and answer are dropped. */
  dispose(): void {
    this.#run++;
  }
}
