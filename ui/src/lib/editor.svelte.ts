// The window's state: the saved form, the admin's draft, pending secret changes, problems,
// and the calls that preview and save them. Views read it; tests drive it with api mocked.

import * as api from './api';
import type { Form } from './bindings/Form';
import type { PolicyView } from './bindings/PolicyView';
import type { Problem } from './bindings/Problem';
import {
  blockingProblems,
  choose,
  computeEdits,
  keepSecret,
  effective,
  mergeProblems,
  problemsByKey,
  secretChanges,
  type Draft,
  type SecretDraft,
} from './form';
import { toFailure } from './errors';
import { SECRET_KEYS } from './fields';

export const PREVIEW_DELAY_MS = 150;

function freshSecrets(): Record<string, SecretDraft> {
  return Object.fromEntries(SECRET_KEYS.map((k) => [k, keepSecret()]));
}

export class Editor {
  form = $state<Form | null>(null);
  draft = $state<Draft>({});
  secrets = $state<Record<string, SecretDraft>>(freshSecrets());
  problems = $state<Problem[]>([]);
  loadError = $state<string | null>(null);
  saving = $state(false);
  justSaved = $state(false);
  /** Why the last save failed (until the next save or revert). */
  saveError = $state<string | null>(null);
  /** Problems the last failed save reported, for the summary. */
  saveProblems = $state<Problem[]>([]);
  previewError = $state<string | null>(null);
  noticeDismissed = $state(false);
  /** Counts the admin's edits (to drop messages about what was before). */
  editCount = $state(0);
  keychainDismissed = $state(false);
  /** The organization's policy: which of the form's keys are locked and why (null: not known). */
  policy = $state<PolicyView | null>(null);

  edits = $derived(this.form ? computeEdits(this.form.values, this.draft) : {});
  secretChanges = $derived(secretChanges(this.secrets));
  dirty = $derived(Object.keys(this.edits).length > 0 || this.secretChanges.length > 0);
  blocking = $derived(blockingProblems(this.problems));
  byKey = $derived(problemsByKey(this.problems));

  /** The value in force for a key: the draft's text, else the default. */
  get = (key: string): string => effective(this.draft, this.form?.defaults ?? {}, key);

  /** The organization's policy locks this key: shown, not editable (the core refuses it anyway). */
  isLocked(key: string): boolean {
    return this.policy?.locked.includes(key) ?? false;
  }

  problemsFor(key: string): Problem[] {
    return this.byKey.get(key) ?? [];
  }

  #timer: ReturnType<typeof setTimeout> | undefined;
  #seq = 0;

  async load(): Promise<void> {
    this.loadError = null;
    try {
      this.#applyForm(await api.loadForm());
    } catch (e) {
      this.loadError = toFailure(e).message;
    }
    await this.loadPolicy();
  }

  /** Reads the policy again; without an answer nothing is shown as locked (the core still refuses). */
  async loadPolicy(): Promise<void> {
    try {
      this.policy = await api.policy();
    } catch {
      this.policy = null;
    }
  }

  #applyForm(form: Form, keep?: { draft: Draft; secrets: Record<string, SecretDraft> }): void {
    this.#cancelPreview();
    const draft: Draft = { ...form.values };
    const secrets = freshSecrets();
    // Changes the admin made while the save was under way stay in the draft.
    if (keep) {
      for (const [k, v] of Object.entries(this.draft)) if (v !== keep.draft[k]) draft[k] = v;
      for (const [k, s] of Object.entries(this.secrets)) {
        const was = keep.secrets[k];
        if (!was || was.mode !== s.mode || was.value !== s.value) secrets[k] = { ...s };
      }
    }
    this.form = form;
    this.draft = draft;
    this.secrets = secrets;
    this.problems = form.problems;
    if (keep && this.dirty) this.schedulePreview();
  }

  #changed(): void {
    this.editCount++;
    this.justSaved = false;
    this.schedulePreview();
  }

  /** A typed value (`""` = unset). */
  set(key: string, value: string): void {
    if (this.isLocked(key)) return;
    this.draft[key] = value;
    this.#changed();
  }

  /** A switch, select or radio choice. */
  choose(key: string, value: string): void {
    if (!this.form || this.isLocked(key)) return;
    this.draft = choose(this.form.values, this.form.defaults, this.draft, key, value);
    this.#changed();
  }

  replaceSecret(key: string): void {
    this.secrets[key] = { mode: 'replace', value: '' };
    this.#changed();
  }

  typeSecret(key: string, value: string): void {
    this.secrets[key] = { mode: 'replace', value };
    this.#changed();
  }

  clearSecret(key: string): void {
    this.secrets[key] = { mode: 'clear', value: '' };
    this.#changed();
  }

  keepSecret(key: string): void {
    this.secrets[key] = keepSecret();
    this.#changed();
  }

  /**
   * Shows a form the backend replaced as a whole (an import or its undo): the draft, secret
   * changes and messages of the old one are dropped.
   */
  reload(form: Form): void {
    this.saveError = null;
    this.saveProblems = [];
    this.previewError = null;
    this.justSaved = false;
    this.loadError = null;
    this.#applyForm(form);
    void this.loadPolicy();
  }

  revert(): void {
    if (!this.form) return;
    this.#cancelPreview();
    this.draft = { ...this.form.values };
    this.secrets = freshSecrets();
    this.problems = this.form.problems;
    this.saveError = null;
    this.saveProblems = [];
    this.previewError = null;
  }

  #cancelPreview(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#seq++;
  }

  /** Stops pending work (the window's view is going away). */
  dispose(): void {
    this.#cancelPreview();
  }

  get previewPending(): boolean {
    return this.#timer !== undefined;
  }

  schedulePreview(): void {
    this.#cancelPreview();
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.runPreview();
    }, PREVIEW_DELAY_MS);
  }

  /** Checks the draft now. Answers to older requests are dropped. */
  async runPreview(): Promise<void> {
    if (!this.form) return;
    const seq = ++this.#seq;
    if (!this.dirty) {
      // Nothing changed: the saved settings' own problems are the complete answer.
      this.problems = this.form.problems;
      this.previewError = null;
      return;
    }
    try {
      const problems = await api.preview($state.snapshot(this.edits), $state.snapshot(this.secretChanges));
      if (seq !== this.#seq) return;
      this.problems = problems;
      this.previewError = null;
    } catch (e) {
      if (seq !== this.#seq) return;
      this.previewError = toFailure(e).message;
    }
  }

  /** Saves the draft. True when everything is saved (or nothing needed saving). */
  async save(): Promise<boolean> {
    if (!this.form || this.saving) return false;
    if (!this.dirty) return true;
    this.#cancelPreview();
    const keep = { draft: $state.snapshot(this.draft), secrets: $state.snapshot(this.secrets) };
    const edits = $state.snapshot(this.edits);
    const secrets = $state.snapshot(this.secretChanges);
    this.saving = true;
    this.saveError = null;
    this.saveProblems = [];
    try {
      const form = await api.save(edits, secrets);
      this.#applyForm(form, keep);
      this.justSaved = !this.dirty;
      return true;
    } catch (e) {
      const failure = toFailure(e);
      this.problems = mergeProblems(this.problems, failure.problems);
      this.saveProblems = failure.problems;
      this.saveError = failure.message;
      this.justSaved = false;
      return false;
    } finally {
      this.saving = false;
    }
  }
}
