// The state of the receiver's "Validate": the live step list and the result (see DiagnosisRun).

import * as api from './api';
import type { SecretChange } from './bindings/SecretChange';
import { DiagnosisRun } from './diagnosisrun.svelte';

export class ReceiverCheck extends DiagnosisRun {
  /** Logs in with the given values (the form's, saved or not). Resolves when the check has ended. */
  async validate(edits: Record<string, string>, secrets: SecretChange[]): Promise<void> {
    if (this.running) return;
    await this.start((onProgress) => api.receiverCheck(edits, secrets, onProgress));
  }

  async cancel(): Promise<void> {
    await this.stop(() => api.cancelReceiverCheck(), 'check');
  }
}
