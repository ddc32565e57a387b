// The state of exporting and importing configuration files: which dialog is shown, the
// passphrases, the import preview, the message after it. The window owns one; the toolbar,
// the app menu and dropped files all start here.

import * as api from './api';
import type { ImportPreview } from './bindings/ImportPreview';
import type { Editor } from './editor.svelte';
import { toFailure, type Failure as SaveFailure } from './errors';
import { checkPassphrase, importedText, isConfigFile, isPassphraseProblem, passphraseErrorText } from './transfer';

/** The dialog shown: none, the export dialog, or one step of an import. */
export type TransferStep = 'idle' | 'export' | 'confirm' | 'passphrase' | 'preview' | 'errors';

/** What the status line says after an export, import or undo. */
export interface TransferNotice {
  text: string;
  kind: 'ok' | 'error' | 'info';
  /** Offer "Undo" (after an import). */
  undo: boolean;
}

export type ExportResult = 'invalid' | 'cancelled' | 'done' | 'failed' | 'busy';

export class Transfer {
  step = $state<TransferStep>('idle');
  /** A call (or a file dialog) is under way. */
  busy = $state(false);
  /** Files dragged over the window: `json` when one can be imported, `other` when not. */
  dragging = $state<'json' | 'other' | null>(null);
  notice = $state<TransferNotice | null>(null);

  // Export.
  withSecrets = $state(false);
  passphrase = $state('');
  passphraseConfirm = $state('');
  /** Why the last export failed. */
  exportFailure = $state<SaveFailure | null>(null);

  // Import.
  /** The file being imported, read once by the Rust side (its bytes are what is applied). */
  file = $state<api.ChosenFile | null>(null);
  /** The admin allowed the import's changes of where stored secrets go (the preview's checkbox). */
  allowRedirect = $state(false);
  /** What the "replace your unsaved changes?" question is for. */
  confirmFor = $state<'import' | 'undo'>('import');
  importPassphrase = $state('');
  /** Why the passphrase was not accepted (shown in the passphrase dialog). */
  passphraseError = $state<string | null>(null);
  preview = $state<ImportPreview | null>(null);
  /** Why the file cannot be imported (the errors dialog). */
  failure = $state<SaveFailure | null>(null);

  readonly #editor: Editor;
  /** The passphrase the preview was made with: the same one is applied. */
  #previewPassphrase: string | null = null;
  #run = 0;

  constructor(editor: Editor) {
    this.#editor = editor;
  }

  get modalOpen(): boolean {
    return this.step !== 'idle';
  }

  get fileName(): string {
    return this.file?.name ?? '';
  }

  /** Whether the last import can be undone (the backend says so in the form). */
  get canUndo(): boolean {
    return !!this.#editor.form?.can_undo_import;
  }

  /** Nothing else is going on: a new export or import may start. */
  get canStart(): boolean {
    return this.step === 'idle' && !this.busy && !!this.#editor.form && !this.#editor.saving;
  }

  dismissNotice(): void {
    this.notice = null;
  }

  /** Closes the dialog shown and forgets the passphrases. An import being applied is not stopped. */
  cancel(): void {
    if (this.busy && this.step === 'preview') return; // applying
    this.#run++;
    this.busy = false;
    this.step = 'idle';
    this.#forgetPassphrases();
    this.preview = null;
    this.failure = null;
    this.exportFailure = null;
  }

  #forgetPassphrases(): void {
    this.passphrase = '';
    this.passphraseConfirm = '';
    this.importPassphrase = '';
    this.passphraseError = null;
    this.#previewPassphrase = null;
    this.allowRedirect = false;
  }

  // --- Export ----------------------------------------------------------------------------

  openExport(): void {
    if (!this.canStart) return;
    this.#forgetPassphrases();
    this.withSecrets = false;
    this.exportFailure = null;
    this.notice = null;
    this.step = 'export';
  }

  get passphraseCheck() {
    return checkPassphrase(this.passphrase, this.passphraseConfirm);
  }

  /** Asks where to (a native dialog), then exports. The dialog stays open unless the export is done. */
  async export(): Promise<ExportResult> {
    if (this.step !== 'export') return 'failed';
    if (this.busy) return 'busy';
    if (this.withSecrets && !this.passphraseCheck.ok) return 'invalid';
    const run = ++this.#run;
    this.busy = true;
    this.exportFailure = null;
    try {
      const path = await api.exportConfig(this.withSecrets ? this.passphrase : null);
      if (run !== this.#run) return 'cancelled';
      if (!path) return 'cancelled';
      this.step = 'idle';
      this.#forgetPassphrases();
      this.notice = { text: `Exported to ${path}`, kind: 'ok', undo: false };
      return 'done';
    } catch (e) {
      if (run !== this.#run) return 'cancelled';
      this.exportFailure = toFailure(e);
      return 'failed';
    } finally {
      if (run === this.#run) this.busy = false;
    }
  }

  // --- Import ----------------------------------------------------------------------------

  /**
   * Starts an import: asks for the file (unless one was dropped: its id), then whether to
   * replace unsaved changes, the passphrase if the file needs one, and shows the preview.
   */
  async startImport(droppedId?: string): Promise<void> {
    if (!this.canStart) return;
    const run = ++this.#run;
    this.notice = null;
    this.preview = null;
    this.failure = null;
    this.#forgetPassphrases();
    this.busy = true;
    let chosen: api.ChosenFile | null;
    try {
      chosen = droppedId ? await api.openDropped(droppedId) : await api.chooseImport();
    } catch (e) {
      if (run === this.#run) {
        this.busy = false;
        this.notice = { text: `Could not open the file: ${toFailure(e).message}`, kind: 'error', undo: false };
      }
      return;
    }
    if (run !== this.#run) return;
    this.busy = false;
    if (!chosen) return;
    this.file = chosen;
    if (this.#editor.dirty) {
      this.confirmFor = 'import';
      this.step = 'confirm';
      return;
    }
    await this.#check(run);
  }

  /** The admin agreed to lose the unsaved changes. */
  async confirmReplace(): Promise<void> {
    if (this.step !== 'confirm' || this.busy) return;
    if (this.confirmFor === 'undo') {
      this.step = 'idle';
      await this.#undo();
    } else {
      await this.#check(++this.#run);
    }
  }

  async #check(run: number): Promise<void> {
    const file = this.file;
    if (!file) return;
    if (file.needs_passphrase) {
      this.busy = false;
      this.importPassphrase = '';
      this.passphraseError = null;
      this.step = 'passphrase';
      return;
    }
    await this.#preview(run, null);
  }

  /** The passphrase dialog's OK. */
  async submitPassphrase(): Promise<void> {
    if (this.step !== 'passphrase' || this.busy) return;
    if (this.importPassphrase === '') {
      this.passphraseError = 'Type the passphrase the file was exported with.';
      return;
    }
    this.passphraseError = null;
    await this.#preview(++this.#run, this.importPassphrase);
  }

  async #preview(run: number, passphrase: string | null): Promise<void> {
    const file = this.file;
    if (!file) return;
    this.busy = true;
    try {
      const preview = await api.previewImport(file.token, passphrase);
      if (run !== this.#run) return;
      this.preview = preview;
      this.#previewPassphrase = passphrase;
      this.importPassphrase = '';
      this.passphraseError = null;
      this.allowRedirect = false;
      this.step = 'preview';
    } catch (e) {
      if (run !== this.#run) return;
      this.#fail(e);
    } finally {
      if (run === this.#run) this.busy = false;
    }
  }

  /** A refused import: ask for the passphrase again if that is all, else list the problems. */
  #fail(e: unknown): void {
    const failure = toFailure(e);
    if (isPassphraseProblem(failure.problems)) {
      this.passphraseError = passphraseErrorText(failure);
      this.step = 'passphrase';
      return;
    }
    this.failure = failure;
    this.preview = null;
    this.#forgetPassphrases();
    this.step = 'errors';
  }

  /** Whether Apply may be pressed: changes of where stored secrets go need the checkbox. */
  get canApply(): boolean {
    return !!this.preview && (this.preview.redirects.length === 0 || this.allowRedirect);
  }

  /** Imports the previewed file (exactly the bytes previewed) and shows the new settings. */
  async apply(): Promise<boolean> {
    const file = this.file;
    if (this.step !== 'preview' || this.busy || !file || !this.preview || !this.canApply) return false;
    const count = this.preview.changes.length;
    const run = ++this.#run;
    this.busy = true;
    try {
      const form = await api.applyImport(file.token, this.#previewPassphrase, this.allowRedirect);
      this.#editor.reload(form);
      this.step = 'idle';
      this.preview = null;
      this.#forgetPassphrases();
      this.notice = { text: importedText(count), kind: 'ok', undo: true };
      return true;
    } catch (e) {
      this.#fail(e);
      return false;
    } finally {
      if (run === this.#run) this.busy = false;
    }
  }

  // --- Undo ------------------------------------------------------------------------------

  /** Restores the settings from before the last import (asking first if there are unsaved changes). */
  async undo(): Promise<void> {
    if (!this.canStart) return;
    if (!this.canUndo) {
      // The menu item is always there.
      this.notice = { text: 'There is no import to undo', kind: 'info', undo: false };
      return;
    }
    if (this.#editor.dirty) {
      this.confirmFor = 'undo';
      this.step = 'confirm';
      return;
    }
    await this.#undo();
  }

  async #undo(): Promise<void> {
    const run = ++this.#run;
    this.busy = true;
    this.notice = null;
    try {
      const form = await api.undoImport();
      this.#editor.reload(form);
      this.notice = { text: 'Import undone', kind: 'ok', undo: false };
    } catch (e) {
      this.notice = { text: `The import was not undone: ${toFailure(e).message}`, kind: 'error', undo: false };
    } finally {
      if (run === this.#run) this.busy = false;
    }
  }

  // --- The app menu and dropped files ------------------------------------------------------

  /** An item of the native File menu. */
  menu(item: string): void {
    if (item === 'export') this.openExport();
    else if (item === 'import') void this.startImport();
    else if (item === 'undo-import') void this.undo();
  }

  dragDrop(e: api.DragDrop): void {
    switch (e.type) {
      case 'enter':
        this.dragging = !this.canStart ? null : e.paths.length === 0 || e.paths.some(isConfigFile) ? 'json' : 'other';
        break;
      case 'over':
        if (this.dragging === null && this.canStart) this.dragging = 'json';
        break;
      case 'leave':
        this.dragging = null;
        break;
      case 'drop': {
        this.dragging = null;
        if (!this.canStart) return;
        if (isConfigFile(e.name)) void this.startImport(e.id);
        else
          this.notice = {
            text: `Not imported: ${e.name} is not a configuration file (.json)`,
            kind: 'error',
            undo: false,
          };
        break;
      }
    }
  }
}
