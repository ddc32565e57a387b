import { cleanup, render, screen, waitFor } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { makeForm } from '../../test/fixtures';
import * as api from '../api';
import type { Preset } from '../bindings/Preset';
import { Editor } from '../editor.svelte';
import { presetEdits } from '../presets';
import PresetPicker from './PresetPicker.svelte';

vi.mock('../api');
const mocked = vi.mocked(api);

const PRESETS: Preset[] = [
  {
    id: 'microsoft365',
    name: 'Microsoft 365',
    settings: { 'global.host': 'smtp.office365.com', 'global.port': '587', 'global.security': 'starttls', 'global.auth': 'm365-smtp', 'global.username': '' },
    variants: [],
    todo: ['Register an app in Microsoft Entra ID.'],
    advice: ['Port 25 is blocked outbound by many ISPs.'],
  },
  {
    id: 'ses',
    name: 'Amazon SES',
    settings: { 'global.host': 'email-smtp.us-east-1.amazonaws.com', 'global.port': '587', 'global.security': 'starttls', 'global.auth': 'password' },
    variants: [
      { id: 'us-east-1', label: 'US East (N. Virginia) — us-east-1', settings: { 'global.host': 'email-smtp.us-east-1.amazonaws.com' } },
      { id: 'eu-west-1', label: 'Europe (Ireland) — eu-west-1', settings: { 'global.host': 'email-smtp.eu-west-1.amazonaws.com' } },
    ],
    todo: ['Verify the sender domain.', 'Create SMTP credentials.'],
    advice: [],
  },
];

async function setup() {
  mocked.loadForm.mockResolvedValue(makeForm({ 'global.host': 'old.example.com', 'global.username': 'mailer', 'global.auth': 'password' }));
  mocked.preview.mockResolvedValue([]);
  mocked.listPresets.mockResolvedValue(structuredClone(PRESETS));
  const editor = new Editor();
  await editor.load();
  const user = userEvent.setup();
  render(PresetPicker, { props: { editor } });
  await waitFor(() => expect(screen.getByRole('option', { name: 'Amazon SES' })).toBeInTheDocument());
  return { editor, user };
}

beforeEach(() => vi.resetAllMocks());
afterEach(() => cleanup());

describe('presetEdits', () => {
  it('lays the chosen variant (default: the first) over the preset', () => {
    expect(presetEdits(PRESETS[1], 'eu-west-1')['global.host']).toBe('email-smtp.eu-west-1.amazonaws.com');
    expect(presetEdits(PRESETS[1])['global.host']).toBe('email-smtp.us-east-1.amazonaws.com');
    expect(presetEdits(PRESETS[0])['global.username']).toBe('');
  });
});

describe('Start from a preset', () => {
  it('fills the fields as unsaved edits and shows what is left to do', async () => {
    const { editor, user } = await setup();
    expect(screen.getByRole('button', { name: 'Fill in' })).toBeDisabled();
    await user.selectOptions(screen.getByLabelText('Provider'), 'ses');
    await user.selectOptions(screen.getByLabelText('Variant'), 'eu-west-1');
    await user.click(screen.getByRole('button', { name: 'Fill in' }));
    expect(editor.get('global.host')).toBe('email-smtp.eu-west-1.amazonaws.com');
    expect(editor.get('global.port')).toBe('587');
    expect(editor.get('global.security')).toBe('starttls');
    expect(editor.dirty).toBe(true);
    expect(mocked.save).not.toHaveBeenCalled();
    const todo = document.getElementById('preset-todo')!;
    expect(todo.textContent).toContain('Still to do at Amazon SES');
    expect(todo.textContent).toContain('Create SMTP credentials.');
    expect(todo.textContent).toContain('eu-west-1');
  });

  it('an empty preset value unsets the field (Microsoft 365 has no username)', async () => {
    const { editor, user } = await setup();
    await user.selectOptions(screen.getByLabelText('Provider'), 'microsoft365');
    expect(screen.queryByLabelText('Variant')).toBeNull();
    await user.click(screen.getByRole('button', { name: 'Fill in' }));
    expect(editor.get('global.auth')).toBe('m365-smtp');
    expect(editor.get('global.username')).toBe('');
    expect(document.getElementById('preset-todo')!.textContent).toContain('Port 25');
  });
});
