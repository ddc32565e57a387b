import { cleanup, render, screen, waitFor } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import * as api from '../api';
import M365SignIn from './M365SignIn.svelte';
import SecretExpiry from './SecretExpiry.svelte';

vi.mock('../api');

const mocked = vi.mocked(api);
const q = (selector: string) => document.querySelector<HTMLElement>(selector);

beforeEach(() => {
  vi.resetAllMocks();
  mocked.m365Status.mockResolvedValue({ account: null, error: null, hint: null });
});

afterEach(cleanup);

describe('M365SignIn', () => {
  it('signs in in the embedded window by default, and shows the account with Sign out', async () => {
    mocked.m365SignIn.mockResolvedValue({ account: 'admin@contoso.example', error: null, hint: null });
    mocked.m365SignOut.mockResolvedValue({ account: null, error: null, hint: null });
    const user = userEvent.setup();
    render(M365SignIn, {});
    await user.click(screen.getByRole('button', { name: 'Sign in with Microsoft' }));
    expect(mocked.m365SignIn).toHaveBeenCalledWith(false);
    await waitFor(() => expect(q('#m365-account')).toHaveTextContent('Signed in as admin@contoso.example'));
    await user.click(screen.getByRole('button', { name: 'Sign out' }));
    expect(mocked.m365SignOut).toHaveBeenCalled();
    await waitFor(() => expect(screen.getByRole('button', { name: 'Sign in with Microsoft' })).toBeInTheDocument());
  });

  it('uses the system browser when chosen, and shows a failure with its hint', async () => {
    mocked.m365SignIn.mockResolvedValue({ account: null, error: 'AADSTS50011: redirect mismatch', hint: 'Redirect URI mismatch: register exactly the URI shown here.' });
    const user = userEvent.setup();
    render(M365SignIn, {});
    await user.click(screen.getByLabelText('Use system browser'));
    await user.click(screen.getByRole('button', { name: 'Sign in with Microsoft' }));
    expect(mocked.m365SignIn).toHaveBeenCalledWith(true);
    await waitFor(() => expect(q('#m365-sign-in-error')).toHaveTextContent('AADSTS50011'));
    expect(q('#m365-sign-in-hint')).toHaveTextContent('register exactly the URI');
  });

  it('asks to save first while the Microsoft 365 settings have unsaved changes', async () => {
    render(M365SignIn, { unsaved: true });
    expect(screen.getByRole('button', { name: 'Sign in with Microsoft' })).toBeDisabled();
    expect(screen.getByText(/Save your changes first/)).toBeInTheDocument();
  });

  it('shows the account already signed in', async () => {
    mocked.m365Status.mockResolvedValue({ account: 'it@contoso.example', error: null, hint: null });
    render(M365SignIn, {});
    await waitFor(() => expect(q('#m365-account')).toHaveTextContent('it@contoso.example'));
  });
});

describe('SecretExpiry', () => {
  const today = new Date(2026, 10, 23);
  it.each([
    ['2027-06-01', null],
    ['2026-12-23', 'is-warning'],
    ['2026-11-30', 'is-error'],
    ['2026-11-01', 'is-error'],
    ['', null],
  ])('%s gives banner %s', (date, kind) => {
    render(SecretExpiry, { date, today });
    const banner = q('#secret-expiry');
    if (kind === null) {
      expect(banner).toBeNull();
    } else {
      expect(banner).toHaveClass(kind);
    }
  });

  it('names the days left and what to do', () => {
    render(SecretExpiry, { date: '2026-11-30', today });
    expect(q('#secret-expiry')).toHaveTextContent('expires in 7 days (2026-11-30)');
    cleanup();
    render(SecretExpiry, { date: '2026-11-01', today });
    expect(q('#secret-expiry')).toHaveTextContent('expired on 2026-11-01');
  });
});
