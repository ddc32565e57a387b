import { cleanup, render, screen, waitFor } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import * as api from '../api';
import type { TemplateDraft } from '../bindings/TemplateDraft';
import type { TemplatePreview } from '../bindings/TemplatePreview';
import type { TemplateView } from '../bindings/TemplateView';
import Templates from './Templates.svelte';

vi.mock('../api');
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

/** A stand-in for the core's preview: fills {{name}}, flags {{nmae}} at its position. */
function fakePreview(d: TemplateDraft): TemplatePreview {
  const errors: TemplatePreview['errors'] = [];
  for (const [field, text] of [['subject', d.subject], ['body', d.body]] as const) {
    const lines = text.split('\n');
    lines.forEach((line, i) => {
      const col = line.indexOf('{{nmae}}');
      if (col >= 0)
        errors.push({ key: `templates.${d.kind}.${field}`, line: i + 1, column: col + 1, text: '{{nmae}}', message: 'unknown placeholder {{nmae}}' });
    });
  }
  return { subject: d.subject.replace('{{name}}', 'Alex'), body: d.body.replace('{{name}}', 'Alex'), errors, problems: [] };
}

const q = <T extends HTMLElement = HTMLElement>(s: string) => document.querySelector<T>(s);

beforeEach(() => {
  vi.resetAllMocks();
  mocked.templates.mockResolvedValue([structuredClone(power), structuredClone(standard)]);
  mocked.previewTemplate.mockImplementation(async (d) => fakePreview(d));
});
afterEach(cleanup);

describe('Templates', () => {
  it('shows the first type and its live preview with sample values', async () => {
    render(Templates);
    await waitFor(() => expect(q<HTMLInputElement>('[data-template-field="subject"]')?.value).toBe('Join {{company}}'));
    await waitFor(() => expect(q('[data-template-preview="body"]')?.textContent).toBe('Hello Alex'));
    expect(screen.getByLabelText('Power user')).toBeChecked();
  });

  it('flags an unknown placeholder with its line and column and blocks saving until fixed', async () => {
    const user = userEvent.setup();
    render(Templates);
    const body = await screen.findByLabelText('Body (plain text)');
    await user.clear(body);
    await user.type(body, 'Hello{enter}  {{{{nmae}}');
    await waitFor(() => expect(q('[data-template-error="body"]')).not.toBeNull());
    const err = q('[data-template-error="body"]')!;
    expect(err.dataset.line).toBe('2');
    expect(err.dataset.column).toBe('3');
    expect(err.textContent).toContain('Body, line 2, column 3: unknown placeholder {{nmae}}');
    expect(body).toHaveAttribute('aria-invalid', 'true');
    expect(q<HTMLButtonElement>('#template-save')!.disabled).toBe(true);
    await user.clear(body);
    await user.type(body, 'Hello {{{{name}}!');
    await waitFor(() => expect(q('[data-template-error="body"]')).toBeNull());
    mocked.saveTemplate.mockImplementation(async (d) => view(d.kind, d.subject, d.body));
    expect(q<HTMLButtonElement>('#template-save')!.disabled).toBe(false);
    await user.click(q('#template-save')!);
    expect(mocked.saveTemplate).toHaveBeenCalledWith({ kind: 'power', subject: 'Join {{company}}', body: 'Hello {{name}}!' });
    await waitFor(() => expect(q('#template-status')?.textContent).toContain('Saved.'));
  });

  it('resets to the default text', async () => {
    const user = userEvent.setup();
    mocked.templates.mockResolvedValue([{ ...power, subject: 'Custom' }, standard]);
    mocked.resetTemplate.mockResolvedValue(power);
    render(Templates);
    await waitFor(() => expect(q<HTMLInputElement>('#template-subject')?.value).toBe('Custom'));
    await user.click(q('#template-reset')!);
    expect(mocked.resetTemplate).toHaveBeenCalledWith('power');
    await waitFor(() => expect(q<HTMLInputElement>('#template-subject')?.value).toBe('Join {{company}}'));
  });

  it('adds a user type with the standard texts and names a refused name', async () => {
    const user = userEvent.setup();
    mocked.saveTemplate.mockImplementation(async (d) => view(d.kind, d.subject, d.body, false));
    render(Templates);
    await screen.findByLabelText('Standard user');
    await user.type(q('#template-new-type')!, 'contractor');
    await user.click(q('#template-add-type')!);
    expect(mocked.saveTemplate).toHaveBeenCalledWith({ kind: 'contractor', subject: standard.default_subject, body: standard.default_body });
    await waitFor(() => expect(screen.getByLabelText('contractor')).toBeChecked());
    expect(q('#template-remove')).not.toBeNull();
    mocked.saveTemplate.mockRejectedValue({ message: 'bad', problems: [{ key: 'templates.a b.subject', severity: 'error', message: 'client IDs and route names use letters' }] });
    await user.type(q('#template-new-type')!, 'a b');
    await user.click(q('#template-add-type')!);
    await waitFor(() => expect(q('#template-add-error')?.textContent).toContain('letters'));
  });

  it('sends a preview and shows where it failed', async () => {
    const user = userEvent.setup();
    mocked.sendTemplatePreview.mockResolvedValue({
      ok: false,
      server: null,
      steps: [],
      failed_stage: 'limits',
      error: 'refused by the Do-Not-Email list: x@y.test is on the list',
      hint: 'Remove the address',
      transcript: [],
    });
    render(Templates);
    await screen.findByLabelText('Send preview to…');
    await user.type(q('#template-send-to')!, 'x@y.test');
    await user.click(q('#template-send')!);
    expect(mocked.sendTemplatePreview).toHaveBeenCalledWith({ kind: 'power', subject: 'Join {{company}}', body: 'Hello {{name}}' }, 'x@y.test', expect.any(Function));
    await waitFor(() => expect(q('#template-send-result')?.textContent).toContain('Failed at Do-Not-Email list and daily limit'));
    expect(q('#template-send-result')?.textContent).toContain('x@y.test is on the list');
  });

  it('edits a client override: inherited texts marked, saved with the client, preview for it, reset to inherited', async () => {
    const user = userEvent.setup();
    mocked.listClients.mockResolvedValue([
      { id: 'acme', name: 'ACME Ltd', own_server: false, host: '' },
      { id: 'bolt', name: 'bolt', own_server: false, host: '' },
    ]);
    const inherited: TemplateView = { ...power, client: 'acme', subject: 'Global {{company}}', subject_from: 'global', inherited_subject: 'Global {{company}}' };
    mocked.templates.mockImplementation(async (client?: string) => (client === 'acme' ? [inherited, { ...standard, client: 'acme' }] : [power, standard]));
    render(Templates);
    const select = await screen.findByLabelText('For');
    await waitFor(() => expect(screen.getByRole('option', { name: 'ACME Ltd (acme)' })).toBeInTheDocument());
    expect(screen.getByRole('option', { name: 'bolt' })).toBeInTheDocument();
    expect(q('[data-template-from]')).toBeNull();
    expect(q('#template-reset')?.textContent).toBe('Reset to default');
    await user.selectOptions(select, 'acme');
    expect(mocked.templates).toHaveBeenLastCalledWith('acme');
    await waitFor(() => expect(q<HTMLInputElement>('#template-subject')?.value).toBe('Global {{company}}'));
    expect(q('[data-template-from="subject"]')?.textContent).toBe('inherited from global');
    expect(q('[data-template-from="body"]')?.textContent).toBe('inherited: default');
    // User types are global: no adding or removing them for a client.
    expect(q('#template-add-type')).toBeNull();
    const resetButton = q<HTMLButtonElement>('#template-reset')!;
    expect(resetButton.textContent).toBe('Reset to inherited');
    expect(resetButton.disabled).toBe(true);
    // The live preview is asked for this client.
    await waitFor(() => expect(mocked.previewTemplate).toHaveBeenLastCalledWith({ kind: 'power', subject: 'Global {{company}}', body: 'Hello {{name}}', client: 'acme' }));
    const body = q<HTMLTextAreaElement>('#template-body')!;
    await user.clear(body);
    await user.type(body, 'ACME hello {{{{name}}');
    await waitFor(() => expect(q('[data-template-preview="body"]')?.textContent).toBe('ACME hello Alex'));
    expect(mocked.previewTemplate).toHaveBeenLastCalledWith({ kind: 'power', subject: 'Global {{company}}', body: 'ACME hello {{name}}', client: 'acme' });
    const saved: TemplateView = { ...inherited, body: 'ACME hello {{name}}', body_from: 'client' };
    mocked.saveTemplate.mockResolvedValue(saved);
    await user.click(q('#template-save')!);
    expect(mocked.saveTemplate).toHaveBeenCalledWith({ kind: 'power', subject: 'Global {{company}}', body: 'ACME hello {{name}}', client: 'acme' });
    await waitFor(() => expect(q('[data-template-from="body"]')?.textContent).toBe('this client’s own text'));
    expect(q<HTMLButtonElement>('#template-reset')!.disabled).toBe(false);
    mocked.resetTemplate.mockResolvedValue(inherited);
    await user.click(q('#template-reset')!);
    expect(mocked.resetTemplate).toHaveBeenCalledWith('power', 'acme');
    await waitFor(() => expect(q<HTMLTextAreaElement>('#template-body')?.value).toBe('Hello {{name}}'));
    expect(q('#template-status')?.textContent).toContain('Reset to the inherited text');
  });
});
