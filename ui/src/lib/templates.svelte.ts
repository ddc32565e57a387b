// The state of the Invitation templates page: the templates of one scope (global or a client's
// overrides), the type being edited and its texts, the live preview with sample values, and
// save / reset / add / remove / "Send preview to…". The core decides what is wrong with a text
// (errors with line and column); this class only asks and keeps the answers.
// Templates.svelte shows it; tests drive it with api mocked.

import * as api from './api';
import { toFailure } from './errors';
import type { ClientRow } from './bindings/ClientRow';
import type { Problem } from './bindings/Problem';
import type { Report } from './bindings/Report';
import type { TemplateDraft } from './bindings/TemplateDraft';
import type { TemplateError } from './bindings/TemplateError';
import type { TemplatePreview } from './bindings/TemplatePreview';
import type { TemplateView } from './bindings/TemplateView';

/** How long the texts rest before the preview is asked for. */
export const TEMPLATE_PREVIEW_DELAY_MS = 120;

/** A client in the "For" choice: "Name (id)", or the ID alone when the name adds nothing. */
export function clientLabel(c: ClientRow): string {
  return c.name && c.name !== c.id ? `${c.name} (${c.id})` : c.id;
}

/** Where a client's text comes from (`subject_from`/`body_from`), in words. */
export function fromLabel(from: string): string {
  return from === 'client' ? 'this client’s own text' : from === 'global' ? 'inherited from global' : 'inherited: default';
}

/** A template error's position in words. */
export function where(line: number, column: number): string {
  return `line ${line}, column ${column}`;
}

export class TemplateEditor {
  list = $state<TemplateView[]>([]);
  /** "For": '' is the global template (all clients), else a client ID whose override is edited. */
  forClient = $state('');
  clients = $state<ClientRow[]>([]);
  /** The user type being edited, and its texts as typed. */
  kind = $state('');
  subject = $state('');
  body = $state('');
  /** The core's rendering of the texts with sample values, and their errors. */
  preview = $state<TemplatePreview | null>(null);
  loadError = $state<string | null>(null);
  /** Why the last save, reset or remove failed, with the problems the core named. */
  saveError = $state<{ message: string; problems: Problem[] } | null>(null);
  /** What the last save, reset or add did. */
  notice = $state<string | null>(null);
  busy = $state(false);
  /** Why the last "Add user type" was refused. */
  addError = $state<string | null>(null);
  /** "Send preview to…": under way, and the answer to the last send. */
  sending = $state(false);
  report = $state<Report | null>(null);
  sendFailure = $state<string | null>(null);

  // Read straight from the state above (cheap, so getters rather than $derived fields).
  get current(): TemplateView | undefined {
    return this.list.find((t) => t.kind === this.kind);
  }
  get dirty(): boolean {
    const c = this.current;
    return !!c && (c.subject !== this.subject || c.body !== this.body);
  }
  get isDefault(): boolean {
    const c = this.current;
    return !!c && this.subject === c.default_subject && this.body === c.default_body;
  }
  /** The client's own texts override at least one field. */
  get overridden(): boolean {
    const c = this.current;
    return !!c && (c.subject_from === 'client' || c.body_from === 'client');
  }
  get errors(): TemplateError[] {
    return this.preview?.errors ?? [];
  }
  get subjectErrors(): TemplateError[] {
    return this.errors.filter((e) => e.key.endsWith('.subject'));
  }
  get bodyErrors(): TemplateError[] {
    return this.errors.filter((e) => e.key.endsWith('.body'));
  }
  get otherProblems(): Problem[] {
    return this.preview?.problems ?? [];
  }
  /** Something the core refuses: no saving or sending until fixed. */
  get blocked(): boolean {
    return this.errors.length > 0 || this.otherProblems.length > 0;
  }
  /** The client the texts are for, as listed. */
  get clientShown(): ClientRow | null {
    const id = this.forClient;
    return id ? (this.clients.find((c) => c.id === id) ?? { id, name: '', own_server: false, host: '' }) : null;
  }

  #timer: ReturnType<typeof setTimeout> | undefined;
  #seq = 0;
  /** The draft the last preview was scheduled for (a change of the texts asks again). */
  #previewed: string | null = null;

  /** The texts as typed, for the scope shown. */
  draft(): TemplateDraft {
    return { kind: this.kind, subject: this.subject, body: this.body, client: this.forClient || undefined };
  }

  /** Loads the templates and the clients (the page is shown). */
  async open(): Promise<void> {
    await Promise.all([this.load(), this.loadClients()]);
  }

  async loadClients(): Promise<void> {
    try {
      this.clients = await api.listClients();
    } catch {
      this.clients = [];
    }
  }

  /** Loads the templates of the scope shown and selects `select` (else the same type, else the first). */
  async load(select?: string): Promise<void> {
    try {
      this.list = this.forClient ? await api.templates(this.forClient) : await api.templates();
      this.loadError = null;
      this.choose(select ?? (this.list.some((t) => t.kind === this.kind) ? this.kind : (this.list[0]?.kind ?? '')));
    } catch (e) {
      this.loadError = toFailure(e).message;
    }
  }

  /** Shows the global template ('') or a client's, keeping the type. */
  async setFor(client: string): Promise<void> {
    this.forClient = client;
    this.#textsChanged();
    await this.load(this.kind);
  }

  /** Edits a type's stored texts (the draft and the messages of the previous one are dropped). */
  choose(kind: string): void {
    const t = this.list.find((x) => x.kind === kind);
    if (!t) return;
    this.kind = t.kind;
    this.subject = t.subject;
    this.body = t.body;
    this.saveError = null;
    this.notice = null;
    this.report = null;
    this.sendFailure = null;
    this.#textsChanged();
  }

  setSubject(value: string): void {
    this.subject = value;
    this.#textsChanged();
  }

  setBody(value: string): void {
    this.body = value;
    this.#textsChanged();
  }

  /** Every change of the draft asks the core for a preview, after a short rest. */
  #textsChanged(): void {
    const draft = this.draft();
    if (!draft.kind) return;
    const key = JSON.stringify([draft.kind, draft.subject, draft.body, draft.client ?? '']);
    if (key === this.#previewed) return;
    this.#previewed = key;
    this.#cancelPreview();
    const n = ++this.#seq;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#runPreview(draft, n);
    }, TEMPLATE_PREVIEW_DELAY_MS);
  }

  /** Answers to older requests are dropped. */
  async #runPreview(draft: TemplateDraft, n: number): Promise<void> {
    try {
      const p = await api.previewTemplate(draft);
      if (n === this.#seq) this.preview = p;
    } catch (e) {
      if (n === this.#seq) this.loadError = toFailure(e).message;
    }
  }

  #cancelPreview(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  get previewPending(): boolean {
    return this.#timer !== undefined;
  }

  /** Stops pending work (the page is going away). */
  dispose(): void {
    this.#cancelPreview();
    this.#seq++;
    this.#previewed = null;
  }

  /** A reset or remove failed: its message (the problems of a failed save stay listed, as before). */
  #failed(e: unknown): void {
    this.saveError = { message: toFailure(e).message, problems: this.saveError?.problems ?? [] };
  }

  #replaceInList(t: TemplateView): void {
    this.list = this.list.map((x) => (x.kind === t.kind ? t : x));
    if (!this.list.some((x) => x.kind === t.kind)) this.list = [...this.list, t];
  }

  async save(): Promise<void> {
    this.busy = true;
    try {
      const t = await api.saveTemplate(this.draft());
      this.#replaceInList(t);
      this.saveError = null;
      this.notice = 'Saved.';
    } catch (e) {
      this.saveError = toFailure(e);
      this.notice = null;
    } finally {
      this.busy = false;
    }
  }

  /** "Reset to default" (global) or "Reset to inherited" (a client): unsets the stored texts. */
  async reset(): Promise<void> {
    this.busy = true;
    const client = this.forClient;
    try {
      const t = client ? await api.resetTemplate(this.kind, client) : await api.resetTemplate(this.kind);
      this.#replaceInList(t);
      this.choose(t.kind);
      this.notice = client ? 'Reset to the inherited text and saved.' : 'Reset to the default text and saved.';
    } catch (e) {
      this.#failed(e);
    } finally {
      this.busy = false;
    }
  }

  /**
   * Adds the user type `name` (as typed) with the standard texts, or selects it when it exists.
   * True when it is shown now (the input can be emptied).
   */
  async addType(typed: string): Promise<boolean> {
    const name = typed.trim();
    if (name === '') {
      this.addError = 'Type a name for the user type (letters, digits, - and _).';
      return false;
    }
    if (this.list.some((t) => t.kind === name)) {
      this.choose(name);
      this.addError = null;
      return true;
    }
    const standard = this.list.find((t) => t.kind === 'standard');
    try {
      const t = await api.saveTemplate({ kind: name, subject: standard?.default_subject ?? '', body: standard?.default_body ?? '' });
      this.#replaceInList(t);
      this.choose(t.kind);
      this.addError = null;
      this.notice = `User type “${t.kind}” added with the standard texts.`;
      return true;
    } catch (e) {
      const err = toFailure(e);
      this.addError = err.problems.map((p) => p.message).join('; ') || err.message;
      return false;
    }
  }

  /** Removes the type shown (not a built-in one) and shows another. */
  async removeType(): Promise<void> {
    if (!this.current || this.current.built_in) return;
    const kind = this.kind;
    try {
      await api.removeTemplate(kind);
      await this.load(this.list.find((t) => t.kind !== kind)?.kind);
    } catch (e) {
      this.#failed(e);
    }
  }

  /** Sends the texts as typed, with the sample values, to `address` through the normal send path. */
  async sendPreview(address: string): Promise<void> {
    const to = address.trim();
    if (this.sending || to === '') return;
    this.sending = true;
    this.report = null;
    this.sendFailure = null;
    try {
      this.report = await api.sendTemplatePreview(this.draft(), to, () => {});
    } catch (err) {
      this.sendFailure = toFailure(err).message;
    } finally {
      this.sending = false;
    }
  }
}
