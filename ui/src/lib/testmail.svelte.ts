// The state of "Send test mail": the recipient, the live step list, the result. It outlives
// the Base panel, so a test keeps running (and its result stays) while another section is shown.

import * as api from './api';
import type { SecretChange } from './bindings/SecretChange';
import { DiagnosisRun } from './diagnosisrun.svelte';
import { defaultRecipient } from './report';

export const RECIPIENT_PREF = 'lastTestRecipient';

export class MailTest extends DiagnosisRun {
  /** The recipient as typed. */
  to = $state('');
  /** Who the last test went to. */
  sentTo = $state('');

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
    this.sentTo = to;
    if (to !== '') void api.setPref(RECIPIENT_PREF, to);
    await this.start((onProgress) => api.testMail(edits, secrets, to, onProgress));
  }

  async cancel(): Promise<void> {
    await this.stop(() => api.cancelTestMail(), 'test');
  }
}
