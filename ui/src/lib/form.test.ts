import { describe, expect, it } from 'vitest';
import { DEFAULTS, makeForm } from '../test/fixtures';
import type { Problem } from './bindings/Problem';
import { fieldFor, FIELDS, SECRET_KEYS } from './fields';
import {
  blockingProblems,
  choose,
  computeEdits,
  effective,
  isDirty,
  keepSecret,
  lookup,
  mergeProblems,
  problemsByKey,
  secretChanges,
  sectionCounts,
  statusText,
  unplacedProblems,
  visibleFields,
} from './form';

const keysOf = (fields: { key: string }[]) => fields.map((f) => f.key);
const withAuth = (auth: string, extra: Record<string, string> = {}) =>
  lookup({ 'global.auth': auth, ...extra }, DEFAULTS);

describe('edits', () => {
  it('contains only the keys whose draft differs from the saved value', () => {
    const saved = makeForm({ 'global.host': 'smtp.example.com', 'global.port': '587' }).values;
    const draft = { ...saved, 'global.port': '465', 'global.sender.name': 'IT' };
    expect(computeEdits(saved, draft)).toEqual({ 'global.port': '465', 'global.sender.name': 'IT' });
  });

  it('sends "" to unset a saved value', () => {
    const saved = makeForm({ 'global.host': 'smtp.example.com' }).values;
    expect(computeEdits(saved, { ...saved, 'global.host': '' })).toEqual({ 'global.host': '' });
  });

  it('is empty for an unchanged draft', () => {
    const saved = makeForm({ 'global.host': 'smtp.example.com' }).values;
    expect(computeEdits(saved, { ...saved })).toEqual({});
    expect(isDirty(saved, { ...saved }, { 'global.password': keepSecret() })).toBe(false);
  });

  it('shows the default as the effective value of an unset key', () => {
    expect(effective({ 'global.port': '' }, DEFAULTS, 'global.port')).toBe('25');
    expect(effective({ 'global.port': '587' }, DEFAULTS, 'global.port')).toBe('587');
    expect(effective({ 'global.host': '' }, DEFAULTS, 'global.host')).toBe('');
  });
});

describe('choices (switches, selects, radios)', () => {
  const saved = makeForm({ 'global.tls_verify': '' }).values;

  it('keeps the saved text when the choice means the same', () => {
    // Unset tls_verify means "true": switching it off and on again changes nothing.
    const off = choose(saved, DEFAULTS, saved, 'global.tls_verify', 'false');
    expect(off['global.tls_verify']).toBe('false');
    expect(computeEdits(saved, off)).toEqual({ 'global.tls_verify': 'false' });
    const on = choose(saved, DEFAULTS, off, 'global.tls_verify', 'true');
    expect(on['global.tls_verify']).toBe('');
    expect(computeEdits(saved, on)).toEqual({});
  });

  it('writes an explicit value when it differs from what is saved', () => {
    const savedTls = makeForm({ 'global.security': 'tls' }).values;
    const draft = choose(savedTls, DEFAULTS, savedTls, 'global.security', 'none');
    expect(computeEdits(savedTls, draft)).toEqual({ 'global.security': 'none' });
  });
});

describe('secrets', () => {
  it('turns a typed replacement into a SecretChange with the value', () => {
    expect(secretChanges({ 'global.password': { mode: 'replace', value: 's3cret' } })).toEqual([
      { key: 'global.password', value: 's3cret' },
    ]);
  });

  it('turns a clear into a SecretChange with null', () => {
    expect(secretChanges({ 'global.m365.client_secret': { mode: 'clear', value: '' } })).toEqual([
      { key: 'global.m365.client_secret', value: null },
    ]);
  });

  it('sends nothing for kept secrets or an empty replacement', () => {
    expect(
      secretChanges({ 'global.password': keepSecret(), 'global.m365.client_secret': { mode: 'replace', value: '' } }),
    ).toEqual([]);
  });

  it('makes the form dirty only when a change would be sent', () => {
    const saved = makeForm().values;
    expect(isDirty(saved, saved, { 'global.password': { mode: 'replace', value: '' } })).toBe(false);
    expect(isDirty(saved, saved, { 'global.password': { mode: 'replace', value: 'x' } })).toBe(true);
    expect(isDirty(saved, saved, { 'global.password': { mode: 'clear', value: '' } })).toBe(true);
  });

  it('knows both secret keys of the form', () => {
    expect([...SECRET_KEYS].sort()).toEqual(['global.m365.client_secret', 'global.password', 'proxy.password', 'receiver.password']);
  });
});

describe('fields shown for each authentication', () => {
  it('none: no sign-in fields; SMTP connection settings', () => {
    const security = keysOf(visibleFields('security', withAuth('none')));
    expect(security).toEqual(['global.security', 'global.timeout_secs', 'global.data_timeout_secs', 'global.tls_verify', 'global.helo_name', 'global.ca_file', 'receiver.enabled']);
    expect(keysOf(visibleFields('base', withAuth('none')))).toContain('global.host');
  });

  it('password: username, password and encryption', () => {
    const security = keysOf(visibleFields('security', withAuth('password')));
    expect(security).toEqual(expect.arrayContaining(['global.username', 'global.password', 'global.security']));
    expect(security.some((k) => k.startsWith('global.m365.'))).toBe(false);
  });

  it('Microsoft 365 SMTP: M365 fields and encryption, no username, no Graph URL', () => {
    const security = keysOf(visibleFields('security', withAuth('m365-smtp')));
    expect(security).toEqual(
      expect.arrayContaining([
        'global.m365.tenant',
        'global.m365.client_id',
        'global.m365.client_secret',
        'global.m365.flow',
        'global.m365.cloud',
        'global.m365.secret_expires',
        'global.m365.authority',
        'global.security',
        'global.timeout_secs',
      ]),
    );
    expect(security).not.toContain('global.username');
    expect(security).not.toContain('global.password');
    expect(security).not.toContain('global.m365.graph_url');
    expect(keysOf(visibleFields('base', withAuth('m365-smtp')))).toContain('global.port');
  });

  it('Microsoft 365 Graph: no encryption, host, port or SMTP settings; Graph URL shown', () => {
    const security = keysOf(visibleFields('security', withAuth('m365-graph')));
    expect(security).toContain('global.m365.graph_url');
    for (const k of ['global.security', 'global.timeout_secs', 'global.data_timeout_secs', 'global.tls_verify', 'global.helo_name', 'global.ca_file', 'global.username']) {
      expect(security).not.toContain(k);
    }
    const base = keysOf(visibleFields('base', withAuth('m365-graph')));
    expect(base).not.toContain('global.host');
    expect(base).not.toContain('global.port');
    expect(base).toContain('global.sender.address');
  });

  it('SMTP is the default email type: no sendmail program field', () => {
    const base = keysOf(visibleFields('base', withAuth('password')));
    expect(base.slice(0, 3)).toEqual(['global.enabled', 'global.email_type', 'global.auth']);
    expect(base).not.toContain('global.sendmail_path');
    expect(keysOf(visibleFields('base', withAuth('password', { 'global.email_type': 'smtp' })))).toEqual(base);
  });

  it('sendmail: the program path and the sender, nothing about a server, sign-in or encryption', () => {
    for (const auth of ['none', 'password', 'm365-smtp', 'm365-graph']) {
      const get = withAuth(auth, { 'global.email_type': 'sendmail' });
      expect(keysOf(visibleFields('base', get))).toEqual([
        'global.enabled',
        'global.email_type',
        'global.sendmail_path',
        'global.sender.address',
        'global.sender.name',
        'global.reply_to.address',
        'global.reply_to.name',
        'global.utf8_headers',
      ]);
      expect(keysOf(visibleFields('security', get))).toEqual([]);
    }
  });

  it('sets aside the problems of server settings while sendmail delivers', () => {
    const get = withAuth('password', { 'global.email_type': 'sendmail' });
    const problems: Problem[] = [
      { key: 'global.host', severity: 'error', message: 'is not a valid host name' },
      { key: 'global.sendmail_path', severity: 'error', message: 'must be an absolute path' },
    ];
    expect(unplacedProblems(problems, get).hidden.map((x) => x.key)).toEqual(['global.host']);
    expect(sectionCounts(problems, get).base).toEqual({ blocking: 1, warnings: 0 });
    expect(sectionCounts(problems, get).security).toEqual({ blocking: 0, warnings: 0 });
  });

  it('support fields never depend on the authentication', () => {
    for (const auth of ['none', 'password', 'm365-smtp', 'm365-graph']) {
      expect(keysOf(visibleFields('support', withAuth(auth)))).toEqual([
        'support.address',
        'support.allow_client_address',
        'support.attach_system_info',
      ]);
    }
  });

  it('covers every key of the form exactly once', () => {
    const keys = FIELDS.map((f) => f.key);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys).toHaveLength(43);
    expect(fieldFor('global.m365.secret_expires')?.control).toBe('date');
    expect(fieldFor('global.email_type')?.choices?.map((c) => c.value)).toEqual(['smtp', 'sendmail']);
  });
});

describe('problems', () => {
  const p = (key: string, severity: Problem['severity'], message = `${key} ${severity}`): Problem => ({
    key,
    severity,
    message,
  });

  it('groups by key, most severe first, without duplicates', () => {
    const map = problemsByKey([p('global.port', 'warning'), p('global.port', 'error'), p('global.port', 'error')]);
    expect(map.get('global.port')?.map((x) => x.severity)).toEqual(['error', 'warning']);
  });

  it('counts per section the problems of shown fields', () => {
    const problems = [
      p('global.host', 'missing'),
      p('global.port', 'warning'),
      p('global.username', 'missing'),
      p('global.password', 'missing'),
      p('support.address', 'error'),
      p('global.m365.tenant', 'error'), // hidden with password auth
      p('client.acme.host', 'error'), // not in this window
    ];
    const counts = sectionCounts(problems, withAuth('password'));
    expect(counts.base).toEqual({ blocking: 1, warnings: 1 });
    expect(counts.security).toEqual({ blocking: 2, warnings: 0 });
    expect(counts.support).toEqual({ blocking: 1, warnings: 0 });
  });

  it('blocks saving on errors and missing values of this window’s keys only', () => {
    const problems = [
      p('global.host', 'missing'),
      p('global.port', 'warning'),
      p('global.m365.tenant', 'error'),
      p('client.acme.host', 'error'),
    ];
    expect(blockingProblems(problems).map((x) => x.key)).toEqual(['global.host', 'global.m365.tenant']);
  });

  it('sets aside problems of hidden fields and of keys outside the window', () => {
    const problems = [p('global.m365.tenant', 'error'), p('global.host', 'missing'), p('route.r1.from', 'missing')];
    const { hidden, elsewhere } = unplacedProblems(problems, withAuth('password'));
    expect(hidden.map((x) => x.key)).toEqual(['global.m365.tenant']);
    expect(elsewhere.map((x) => x.key)).toEqual(['route.r1.from']);
  });

  it('keeps known warnings when a failed save reports the blocking problems', () => {
    const known = [p('global.port', 'warning'), p('global.host', 'missing', 'old'), p('client.a.host', 'error')];
    const fromSave = [p('global.host', 'missing', 'required'), p('global.sender.address', 'missing')];
    const merged = mergeProblems(known, fromSave);
    expect(merged.map((x) => `${x.key}:${x.message}`)).toEqual([
      'global.host:required',
      'global.sender.address:global.sender.address missing',
      'global.port:global.port warning',
      'client.a.host:client.a.host error',
    ]);
  });
});

describe('status line and failures', () => {
  const base = { loading: false, saving: false, dirty: false, justSaved: false, blocking: 0 };

  it('says what matters most', () => {
    expect(statusText({ ...base, loading: true })).toBe('Loading…');
    expect(statusText({ ...base, dirty: true, saving: true })).toBe('Saving…');
    expect(statusText({ ...base, dirty: true, blocking: 2 })).toBe('2 problems to fix');
    expect(statusText({ ...base, blocking: 1 })).toBe('1 problem to fix');
    expect(statusText({ ...base, dirty: true })).toBe('Unsaved changes');
    expect(statusText({ ...base, justSaved: true })).toBe('Saved');
    expect(statusText(base)).toBe('No unsaved changes');
  });
});
