import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import * as api from './api';
import type { Report } from './bindings/Report';
import type { TemplatePreview } from './bindings/TemplatePreview';
import type { TemplateView } from './bindings/TemplateView';
import { clientLabel, fromLabel, TEMPLATE_PREVIEW_DELAY_MS, TemplateEditor, where } from './templates.svelte';

// Every export of the api module becomes a vi.fn() (vitest automock).
vi.mock('./api');
const mocked = vi.mocked(api);

const view = (kind: string, subject: string, body: string, built_in = true): TemplateView => ({
  kind,
  built_in,
  subject,
  body,
  default_subject: subject,
  default_body: body,
  subject_from: 'default',
  body_from: 'default',
  inherited_subject: subject,
  inherited_body: body,
});

const power = view('power', 'Join {{company}}', 'Hello {{name}}');
const standard = view('standard', 'Welcome {{name}}', 'Hi {{name}}, {{link}}');
const rendered = (subject: string, body: string): TemplatePreview => ({ subject, body, errors: [], problems: [] });

async function opened(): Promise<TemplateEditor> {
  const t = new TemplateEditor();
  await t.open();
  return t;
}

/** Lets the debounce fire and the preview promise settle. */
async function afterPreview() {
  await vi.advanceTimersByTimeAsync(TEMPLATE_PREVIEW_DELAY_MS + 1);
}

beforeEach(() => {
  vi.resetAllMocks();
  vi.useFakeTimers();
  mocked.templates.mockResolvedValue([structuredClone(power), structuredClone(standard)]);
  mocked.listClients.mockResolvedValue([]);
  mocked.previewTemplate.mockImplementation(async (d) => rendered(d.subject.toUpperCase(), d.body.toUpperCase()));
});

afterEach(() => {
  vi.useRealTimers();
});

describe('TemplateEditor', () => {
  it('opens on the first type with its stored texts and previews them after a short rest', async () => {
    mocked.listClients.mockResolvedValue([{ id: 'acme', name: 'ACME', own_server: false, host: '' }]);
    const t = await opened();
    expect(t.kind).toBe('power');
    expect([t.subject, t.body]).toEqual([power.subject, power.body]);
    expect(t.clients.map((c) => c.id)).toEqual(['acme']);
    expect(t.dirty).toBe(false);
    expect(t.previewPending).toBe(true);
    expect(mocked.previewTemplate).not.toHaveBeenCalled();
    await afterPreview();
    expect(mocked.previewTemplate).toHaveBeenCalledTimes(1);
    expect(mocked.previewTemplate).toHaveBeenCalledWith({ kind: 'power', subject: power.subject, body: power.body, client: undefined });
    expect(t.preview?.body).toBe('HELLO {{NAME}}');
  });

  it('asks once per rest, only when the texts changed, and drops an older answer', async () => {
    const t = await opened();
    await afterPreview();
    mocked.previewTemplate.mockClear();
    t.setBody('a');
    t.setBody('ab');
    await afterPreview();
    expect(mocked.previewTemplate).toHaveBeenCalledTimes(1);
    expect(mocked.previewTemplate).toHaveBeenLastCalledWith(expect.objectContaining({ body: 'ab' }));
    expect(t.dirty).toBe(true);
    // The same texts again: nothing to ask.
    t.setBody('ab');
    expect(t.previewPending).toBe(false);

    // A slow answer to an older draft does not replace the newer one.
    let answerOld: (p: TemplatePreview) => void = () => {};
    mocked.previewTemplate.mockImplementationOnce(() => new Promise((resolve) => (answerOld = resolve)));
    t.setBody('old');
    await afterPreview();
    t.setBody('new');
    await afterPreview();
    answerOld(rendered('', 'OLD'));
    await vi.advanceTimersByTimeAsync(0);
    expect(t.preview?.body).toBe('NEW');
  });

  it('blocks on the core’s errors and problems, by field', async () => {
    mocked.previewTemplate.mockResolvedValue({
      subject: '',
      body: '',
      errors: [{ key: 'templates.power.body', line: 2, column: 3, text: '{{nmae}}', message: 'unknown placeholder {{nmae}}' }],
      problems: [],
    });
    const t = await opened();
    await afterPreview();
    expect(t.blocked).toBe(true);
    expect(t.bodyErrors).toHaveLength(1);
    expect(t.subjectErrors).toHaveLength(0);
    mocked.previewTemplate.mockResolvedValue({ subject: '', body: '', errors: [], problems: [{ key: 'templates.power.subject', severity: 'error', message: 'one line' }] });
    t.setSubject('a\nb');
    await afterPreview();
    expect(t.errors).toHaveLength(0);
    expect(t.otherProblems).toHaveLength(1);
    expect(t.blocked).toBe(true);
  });

  it('saves the draft of the scope shown, or keeps the texts and says why not', async () => {
    const t = await opened();
    t.setBody('Hello {{name}}!');
    mocked.saveTemplate.mockImplementation(async (d) => view(d.kind, d.subject, d.body));
    await t.save();
    expect(mocked.saveTemplate).toHaveBeenCalledWith({ kind: 'power', subject: power.subject, body: 'Hello {{name}}!', client: undefined });
    expect(t.dirty).toBe(false);
    expect(t.notice).toBe('Saved.');
    expect(t.busy).toBe(false);

    t.setSubject('x');
    mocked.saveTemplate.mockRejectedValue({ message: 'refused', problems: [{ key: 'templates.power.subject', severity: 'error', message: 'bad' }] });
    await t.save();
    expect(t.subject).toBe('x');
    expect(t.dirty).toBe(true);
    expect(t.saveError?.message).toBe('refused');
    expect(t.saveError?.problems.map((p) => p.message)).toEqual(['bad']);
    expect(t.notice).toBeNull();
  });

  it('resets to the default (global) or to the inherited text (a client)', async () => {
    mocked.templates.mockImplementation(async (client?: string) =>
      client === 'acme' ? [{ ...power, client: 'acme', subject: 'Own', subject_from: 'client' }, standard] : [{ ...power, subject: 'Custom' }, standard],
    );
    const t = await opened();
    expect(t.isDefault).toBe(false);
    mocked.resetTemplate.mockResolvedValue(power);
    await t.reset();
    expect(mocked.resetTemplate).toHaveBeenCalledWith('power');
    expect(t.subject).toBe(power.subject);
    expect(t.isDefault).toBe(true);
    expect(t.notice).toBe('Reset to the default text and saved.');

    await t.setFor('acme');
    expect(mocked.templates).toHaveBeenLastCalledWith('acme');
    expect(t.kind).toBe('power');
    expect(t.subject).toBe('Own');
    expect(t.overridden).toBe(true);
    mocked.resetTemplate.mockResolvedValue({ ...power, client: 'acme', subject_from: 'global' });
    await t.reset();
    expect(mocked.resetTemplate).toHaveBeenLastCalledWith('power', 'acme');
    expect(t.overridden).toBe(false);
    expect(t.notice).toBe('Reset to the inherited text and saved.');
  });

  it('previews and saves a client’s texts with the client', async () => {
    mocked.listClients.mockResolvedValue([{ id: 'acme', name: 'ACME Ltd', own_server: false, host: '' }]);
    const t = await opened();
    await afterPreview();
    await t.setFor('acme');
    expect(t.clientShown?.name).toBe('ACME Ltd');
    await afterPreview();
    expect(mocked.previewTemplate).toHaveBeenLastCalledWith({ kind: 'power', subject: power.subject, body: power.body, client: 'acme' });
    mocked.saveTemplate.mockImplementation(async (d) => ({ ...view(d.kind, d.subject, d.body), client: d.client, body_from: 'client' }));
    t.setBody('Own');
    await t.save();
    expect(mocked.saveTemplate).toHaveBeenCalledWith({ kind: 'power', subject: power.subject, body: 'Own', client: 'acme' });
    expect(t.overridden).toBe(true);
    await t.setFor('');
    expect(t.clientShown).toBeNull();
    expect(mocked.templates).toHaveBeenLastCalledWith();
  });

  it('adds a user type with the standard texts, selects an existing one, and names a refused name', async () => {
    const t = await opened();
    expect(await t.addType(' ')).toBe(false);
    expect(t.addError).toContain('Type a name');
    expect(mocked.saveTemplate).not.toHaveBeenCalled();

    expect(await t.addType(' standard ')).toBe(true);
    expect(t.kind).toBe('standard');
    expect(t.addError).toBeNull();
    expect(mocked.saveTemplate).not.toHaveBeenCalled();

    mocked.saveTemplate.mockImplementation(async (d) => view(d.kind, d.subject, d.body, false));
    expect(await t.addType('contractor')).toBe(true);
    expect(mocked.saveTemplate).toHaveBeenCalledWith({ kind: 'contractor', subject: standard.default_subject, body: standard.default_body });
    expect(t.kind).toBe('contractor');
    expect(t.list.map((x) => x.kind)).toEqual(['power', 'standard', 'contractor']);
    expect(t.notice).toBe('User type “contractor” added with the standard texts.');

    mocked.saveTemplate.mockRejectedValue({ message: 'bad', problems: [{ key: 'templates.a b.subject', severity: 'error', message: 'use letters' }] });
    expect(await t.addType('a b')).toBe(false);
    expect(t.addError).toBe('use letters');
  });

  it('removes a type of its own, never a built-in one', async () => {
    mocked.templates.mockResolvedValue([power, standard, view('contractor', 's', 'b', false)]);
    const t = await opened();
    await t.removeType();
    expect(mocked.removeTemplate).not.toHaveBeenCalled();
    t.choose('contractor');
    mocked.removeTemplate.mockResolvedValue(true);
    mocked.templates.mockResolvedValue([power, standard]);
    await t.removeType();
    expect(mocked.removeTemplate).toHaveBeenCalledWith('contractor');
    expect(t.kind).toBe('power');

    mocked.templates.mockResolvedValue([power, standard, view('contractor', 's', 'b', false)]);
    await t.load('contractor');
    mocked.removeTemplate.mockRejectedValue({ message: 'no such type' });
    await t.removeType();
    expect(t.saveError?.message).toBe('no such type');
  });

  it('sends the texts as typed to the address given, and keeps the answer until another type is chosen', async () => {
    const t = await opened();
    await t.sendPreview('  ');
    expect(mocked.sendTemplatePreview).not.toHaveBeenCalled();
    const report: Report = { ok: true, server: null, steps: [], failed_stage: null, error: null, hint: null, transcript: [] };
    mocked.sendTemplatePreview.mockResolvedValue(report);
    t.setSubject('Hi');
    await t.sendPreview(' x@y.test ');
    expect(mocked.sendTemplatePreview).toHaveBeenCalledWith({ kind: 'power', subject: 'Hi', body: power.body, client: undefined }, 'x@y.test', expect.any(Function));
    expect(t.report?.ok).toBe(true);
    expect(t.sending).toBe(false);
    t.choose('standard');
    expect(t.report).toBeNull();

    mocked.sendTemplatePreview.mockRejectedValue({ message: 'no route' });
    await t.sendPreview('x@y.test');
    expect(t.report).toBeNull();
    expect(t.sendFailure).toBe('no route');
  });

  it('says when the templates cannot be loaded', async () => {
    mocked.templates.mockRejectedValue({ message: 'keychain locked' });
    const t = await opened();
    expect(t.loadError).toBe('keychain locked');
    expect(t.current).toBeUndefined();
  });

  it('forgets a pending preview when disposed', async () => {
    const t = await opened();
    expect(t.previewPending).toBe(true);
    t.dispose();
    expect(t.previewPending).toBe(false);
    await afterPreview();
    expect(mocked.previewTemplate).not.toHaveBeenCalled();
  });
});

describe('template labels', () => {
  it('names clients, origins and positions', () => {
    expect(clientLabel({ id: 'acme', name: 'ACME Ltd', own_server: false, host: '' })).toBe('ACME Ltd (acme)');
    expect(clientLabel({ id: 'bolt', name: 'bolt', own_server: false, host: '' })).toBe('bolt');
    expect(clientLabel({ id: 'bolt', name: '', own_server: false, host: '' })).toBe('bolt');
    expect(fromLabel('client')).toBe('this client’s own text');
    expect(fromLabel('global')).toBe('inherited from global');
    expect(fromLabel('default')).toBe('inherited: default');
    expect(where(2, 3)).toBe('line 2, column 3');
  });
});
