// The window's shell: which section or view is shown, the state the sidebar, banners, sections
// and action bar share (the settings Editor, the test mail, the receiver check, export/import),
// what the status line says, and the window's events (close request, app menu, dropped files).
// App.svelte creates one and hands it to the parts under lib/shell/; tests drive it with api mocked.

import { tick } from 'svelte';
import * as api from './api';
import { Editor } from './editor.svelte';
import { fieldFor, isSection, usesSendmail, type SectionId } from './fields';
import { isVisibleKey, sectionCounts, statusText, unplacedProblems } from './form';
import { ReceiverCheck } from './receivercheck.svelte';
import { MailTest } from './testmail.svelte';
import { Transfer, type TransferNotice } from './transfer.svelte';
import type { Form } from './bindings/Form';

/** The settings sections, the Clients or Routes view, or one of the pages that save on their own. */
export type View = 'settings' | 'clients' | 'routes' | 'templates' | 'dne';

/** The Advanced keys of the Microsoft 365 group: a problem there opens it. */
const ADVANCED_KEYS = ['global.m365.authority', 'global.m365.graph_url'];

export class Shell {
  readonly editor = new Editor();
  readonly mailTest = new MailTest();
  readonly receiverCheck = new ReceiverCheck();
  readonly transfer = new Transfer(this.editor);

  section = $state<SectionId>('base');
  view = $state<View>('settings');
  /** The first form is shown (the e2e tests wait for it). */
  ready = $state(false);
  /** The "unsaved changes" prompt of a close request. */
  dialogOpen = $state(false);
  /** The Microsoft 365 group's Advanced details. */
  advancedOpen = $state(false);

  // Problem counts and lists are kept ($derived: several parts read them on every change);
  // `advancedHasProblem` too, as an effect opens Advanced when it turns true. The rest is read
  // straight from the state (getters).
  counts = $derived(sectionCounts(this.editor.problems, this.editor.get));
  unplaced = $derived(unplacedProblems(this.editor.problems, this.editor.get));
  advancedHasProblem = $derived(ADVANCED_KEYS.some((k) => this.show(k) && this.editor.problemsFor(k).length > 0));

  get form(): Form | null {
    return this.editor.form;
  }
  get auth(): string {
    return this.editor.get('global.auth') || 'none';
  }
  get sendmail(): boolean {
    return usesSendmail(this.editor.get);
  }
  /** What the last export, import or undo did, until the next edit or save. */
  get note(): TransferNotice | null {
    return this.transfer.notice && !this.editor.saving ? this.transfer.notice : null;
  }
  get status(): string {
    const editor = this.editor;
    return statusText({
      loading: !editor.form,
      saving: editor.saving,
      dirty: editor.dirty,
      justSaved: editor.justSaved,
      blocking: editor.blocking.length,
      note: this.note?.text,
    });
  }
  get modalOpen(): boolean {
    return this.dialogOpen || this.transfer.modalOpen;
  }
  get canSave(): boolean {
    const editor = this.editor;
    return !!editor.form && editor.dirty && !editor.saving && editor.blocking.length === 0;
  }
  /** The Clients or Routes view (wide, with the "global off" banner). */
  get listView(): boolean {
    return this.view === 'clients' || this.view === 'routes';
  }

  #editsSeen = 0;

  /** The key is used with the current settings (shown in the form). */
  show = (key: string): boolean => isVisibleKey(key, this.editor.get);

  /**
   * Loads the form and the last section shown, fills in the test recipient and listens to the
   * window's events. Returns what stops it all (the window's view is going away).
   */
  start(): () => void {
    const unlisten: (() => void)[] = [];
    let gone = false;
    /** Keeps the function that stops a listener, or calls it when the window is already gone. */
    const keep = (what: string) => (p: Promise<() => void>) =>
      p.then((f) => (gone ? f() : unlisten.push(f))).catch((e) => console.warn(`postdesk: ${what}:`, e));
    void (async () => {
      // The marks show in the start-up timeline (README "Performance"; nothing is sent anywhere).
      const [, last] = await Promise.all([
        this.editor.load().finally(() => performance.mark?.('postdesk:form answered')),
        api.getPref('lastSection').finally(() => performance.mark?.('postdesk:last section answered')),
      ]);
      if (isSection(last)) this.section = last;
      this.ready = !!this.editor.form;
    })();
    void this.mailTest.loadRecipient();
    keep('close requests are not intercepted')(
      api.onCloseRequested((event) => {
        if (this.editor.dirty || this.editor.saving) {
          event.preventDefault();
          this.dialogOpen = true;
        }
      }),
    );
    keep('the app menu is not handled')(
      api.onMenu((item) => {
        if (!this.dialogOpen) this.transfer.menu(item);
      }),
    );
    keep('dropped files are not handled')(
      api.onDragDrop((event) => {
        if (this.dialogOpen && event.type !== 'leave') return;
        this.transfer.dragDrop(event);
      }),
    );
    return () => {
      gone = true;
      for (const f of unlisten) f();
      this.editor.dispose();
      this.mailTest.dispose();
      this.receiverCheck.dispose();
    };
  }

  /** "Try again" after the form could not be loaded. */
  async retryLoad(): Promise<void> {
    await this.editor.load();
    this.ready = !!this.editor.form;
  }

  /**
   * What the last export or import did is said until the admin edits (here) or saves: App.svelte
   * calls this in an effect, so it runs when the edit count changes.
   */
  dismissNoticeOnEdit(): void {
    const n = this.editor.editCount;
    if (n !== this.#editsSeen) {
      this.#editsSeen = n;
      this.transfer.dismissNotice();
    }
  }

  /** Shows a settings section (and remembers it for the next start). */
  go(id: SectionId): void {
    this.view = 'settings';
    if (this.section === id) return;
    this.section = id;
    void api.setPref('lastSection', id);
  }

  /** Shows a field's section and puts the focus on it. */
  async reveal(key: string): Promise<void> {
    const f = fieldFor(key);
    if (!f) return;
    this.go(f.section);
    if (f.advanced) this.advancedOpen = true;
    await tick();
    const target =
      document.querySelector<HTMLElement>(`[data-key="${key}"]:checked`) ??
      document.querySelector<HTMLElement>(`[data-key="${key}"]`) ??
      document.querySelector<HTMLElement>(`[data-secret="${key}"]`) ??
      document.querySelector<HTMLElement>(`[data-secret-replace="${key}"]`);
    target?.focus();
  }

  async save(): Promise<void> {
    if (!this.editor.dirty || this.editor.saving) return;
    await this.editor.save();
  }

  /** Ctrl+S (Cmd+S) saves, unless a dialog is open. */
  onWindowKeydown = (e: KeyboardEvent): void => {
    if ((e.ctrlKey || e.metaKey) && !e.altKey && e.key.toLowerCase() === 's') {
      e.preventDefault();
      if (!this.modalOpen) void this.save();
    }
  };

  /** The close prompt's Save: the window closes once everything is saved. */
  async dialogSave(): Promise<void> {
    const ok = await this.editor.save();
    this.dialogOpen = false;
    if (ok) await api.destroyWindow();
  }

  async dialogDiscard(): Promise<void> {
    this.dialogOpen = false;
    await api.destroyWindow();
  }
}
