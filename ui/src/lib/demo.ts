// An in-memory stand-in for the Rust backend, for `npm run dev` in a plain browser only
// (see api.ts). Its checks imitate a few of the real ones; the real rules live in Rust.

import type { Backend } from './api';
import type { Change } from './bindings/Change';
import type { Form } from './bindings/Form';
import type { Preset } from './bindings/Preset';
import type { ImportPreview } from './bindings/ImportPreview';
import type { Problem } from './bindings/Problem';
import type { Progress } from './bindings/Progress';
import type { Report } from './bindings/Report';
import type { SecretChange } from './bindings/SecretChange';
import type { ServerSummary } from './bindings/ServerSummary';
import type { Stage } from './bindings/Stage';
import type { Step } from './bindings/Step';
import { FIELDS } from './fields';

const DEFAULTS: Record<string, string> = {
  'global.enabled': 'false',
  'global.email_type': 'smtp',
  'global.sendmail_path': '/usr/sbin/sendmail',
  'global.port': '25',
  'global.security': 'none',
  'global.auth': 'none',
  'global.utf8_headers': 'false',
  'global.timeout_secs': '10',
  'global.tls_verify': 'true',
  'global.m365.flow': 'delegated',
  'global.m365.cloud': 'global',
  'support.allow_client_address': 'false',
  'support.attach_system_info': 'false',
};

const ENUMS: Record<string, string[]> = {
  'global.email_type': ['smtp', 'sendmail'],
  'global.auth': ['none', 'password', 'm365-smtp', 'm365-graph'],
  'global.security': ['none', 'starttls', 'tls'],
  'global.m365.flow': ['delegated', 'app'],
  'global.m365.cloud': ['global', 'usgov', 'usgov-dod', 'china'],
};

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const EMAIL = /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/;
const HOST = /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

function checkValue(key: string, v: string): string | null {
  if (/[\r\n]/.test(v)) return 'must not contain line breaks (CR or LF)';
  if (ENUMS[key] && !ENUMS[key].includes(v)) return `must be one of: ${ENUMS[key].join(', ')}`;
  const field = FIELDS.find((f) => f.key === key);
  if (field?.control === 'switch' && v !== 'true' && v !== 'false') return 'must be true or false';
  if (key === 'global.port' && !(/^\d+$/.test(v) && +v >= 1 && +v <= 65535))
    return 'must be a whole number from 1 to 65535';
  if (key === 'global.timeout_secs' && !(/^\d+$/.test(v) && +v >= 1 && +v <= 600))
    return 'must be a whole number of seconds from 1 to 600';
  if (key === 'global.host' && !HOST.test(v)) return 'is not a valid host name';
  if (field?.control === 'email' && !EMAIL.test(v)) return 'is not an e-mail address (like it@example.com)';
  if (key === 'global.m365.client_id' && !GUID.test(v))
    return 'must be a GUID like 00000000-0000-0000-0000-000000000000 (Application (client) ID in Entra)';
  if (key === 'global.m365.tenant' && !GUID.test(v) && !(v.includes('.') && HOST.test(v)))
    return 'must be the Directory (tenant) ID, a GUID, or a domain such as contoso.onmicrosoft.com';
  if ((key === 'global.m365.authority' || key === 'global.m365.graph_url') && !/^https:\/\/[^/?#]+/.test(v))
    return 'must start with https://';
  if (key === 'global.m365.secret_expires' && !/^\d{4}-\d{2}-\d{2}$/.test(v)) return 'must be a date YYYY-MM-DD';
  if (key === 'global.ca_file' && !v.startsWith('/')) return 'must be an absolute path to a PEM file';
  if (key === 'global.sendmail_path' && !v.startsWith('/')) return 'must be an absolute path to the sendmail program';
  return null;
}

function validate(values: Record<string, string>, secrets: Record<string, boolean>): Problem[] {
  const out: Problem[] = [];
  const get = (k: string) => (values[k] ?? '') || (DEFAULTS[k] ?? '');
  for (const [key, v] of Object.entries(values)) {
    const message = v === '' ? null : checkValue(key, v);
    if (message) out.push({ key, severity: 'error', message });
  }
  if (get('global.enabled') !== 'true') return out;
  const missing = (key: string, message: string) => {
    if (!get(key)) out.push({ key, severity: 'missing', message });
  };
  missing('global.sender.address', 'required when the mail server is used');
  if (get('global.email_type') === 'sendmail') return out;
  const auth = get('global.auth');
  if (auth !== 'm365-graph') missing('global.host', 'required when the mail server is used');
  if (auth === 'password') {
    missing('global.username', 'required for password authentication');
    if (!secrets['global.password'])
      out.push({ key: 'global.password', severity: 'missing', message: 'not set: `postdesk secret set` or the Security section' });
    if (get('global.security') === 'none')
      out.push({ key: 'global.security', severity: 'warning', message: 'the password is sent unencrypted: choose STARTTLS or TLS' });
  }
  if (auth === 'm365-smtp' || auth === 'm365-graph') {
    missing('global.m365.tenant', 'required for Microsoft 365');
    missing('global.m365.client_id', 'required for Microsoft 365');
    if (get('global.m365.flow') === 'app' && !secrets['global.m365.client_secret'])
      out.push({ key: 'global.m365.client_secret', severity: 'missing', message: 'required for the app-only flow' });
    if (auth === 'm365-smtp' && get('global.security') === 'none')
      out.push({ key: 'global.security', severity: 'error', message: 'Microsoft 365 SMTP needs STARTTLS (smtp.office365.com, port 587)' });
  }
  if (auth !== 'm365-graph' && get('global.port') === '25')
    out.push({ key: 'global.port', severity: 'warning', message: 'port 25 is often blocked outbound: prefer 587 (STARTTLS) or 465 (TLS)' });
  if (auth !== 'm365-graph' && get('global.tls_verify') === 'false' && get('global.security') !== 'none')
    out.push({
      key: 'global.tls_verify',
      severity: 'warning',
      message: 'TLS certificates are not verified: anyone on the path can read the mail and the password',
    });
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// serde sends the u64 as a JSON number; ts-rs types it bigint.
const mkStep = (stage: Stage, ok: boolean, ms: number, detail: string): Step => ({ stage, ok, ms: ms as unknown as bigint, detail });

class Cancelled extends Error {}

/**
 * A made-up test mail with a few steps and delays. A recipient containing "fail" is refused
 * at RCPT TO; "slow" makes every step take a few seconds (to try Cancel).
 */
function fakeTestMail(
  values: Record<string, string>,
  secrets: Record<string, boolean>,
  to: string,
  onProgress: (p: Progress) => void,
  cancelled: () => boolean,
): Promise<Report> {
  const get = (k: string) => (values[k] ?? '') || (DEFAULTS[k] ?? '');
  const sendmail = get('global.email_type') === 'sendmail';
  const auth = get('global.auth');
  const security = get('global.security');
  const host = auth === 'm365-graph' ? 'graph.microsoft.com' : get('global.host');
  const port = auth === 'm365-graph' ? 443 : +get('global.port');
  const server: ServerSummary | null =
    get('global.enabled') !== 'true'
      ? null
      : sendmail
        ? { host: get('global.sendmail_path'), port: 0, security: 'none', auth: 'none', source: 'global' }
        : { host, port, security, auth, source: 'global' };
  const from = get('global.sender.address');
  const steps: Step[] = [];
  const transcript: string[] = [];
  const slow = to.includes('slow') ? 2500 : 0;
  let current: Stage = 'config';

  const wait = async (ms: number) => {
    const end = Date.now() + ms + slow;
    while (Date.now() < end) {
      if (cancelled()) throw new Cancelled();
      await sleep(Math.min(50, end - Date.now()));
    }
    if (cancelled()) throw new Cancelled();
  };
  const step = async (stage: Stage, ms: number, detail: string, ok = true) => {
    current = stage;
    onProgress({ kind: 'started', stage });
    await wait(ms);
    const s = mkStep(stage, ok, ms + slow, detail);
    steps.push(s);
    onProgress({ kind: 'finished', step: s });
  };
  const say = (...lines: string[]) => transcript.push(...lines);
  const report = (failed: Stage | null, error: string | null, hint: string | null): Report => ({
    ok: failed === null,
    server,
    steps,
    failed_stage: failed,
    error,
    hint,
    transcript,
  });

  const run = async (): Promise<Report> => {
    const problems = validate(values, secrets).filter((p) => p.severity !== 'warning');
    if (!server) {
      await step('config', 1, 'the mail server is off', false);
      return report('config', '“Use mail server” is off: no mail would be sent.', 'Turn on “Use mail server” under Base.');
    }
    if (problems.length) {
      const text = problems.map((p) => `${p.key}: ${p.message}`).join('\n');
      await step('config', 2, text, false);
      return report('config', text, 'Fix the settings marked in the window, then test again.');
    }
    if (sendmail) {
      await step('config', 2, `sendmail program ${server.host}`);
      await step('data', 400, `${server.host} -i -f ${from} -- ${to}`);
      await step('delivered', 0, 'exit status 0');
      return report(null, null, null);
    }
    await step('config', 2, `global server ${host}:${port}, ${security}, ${auth}`);
    if (auth === 'm365-graph') {
      await step('token', 500, 'login.microsoftonline.com: token for https://graph.microsoft.com/.default');
      await step('graph', 700, `POST /v1.0/users/${from}/sendMail\n202 Accepted`);
      await step('delivered', 0, `accepted for ${to}`);
      return report(null, null, null);
    }
    await step('dns', 120, `${host} → 192.0.2.25`);
    await step('connect', 180, `192.0.2.25:${port}`);
    say(`S: 220 ${host} ESMTP Postfix (Debian/GNU)`);
    await step('banner', 90, `220 ${host} ESMTP Postfix (Debian/GNU)`);
    const caps = ['250-' + host, '250-PIPELINING', '250-SIZE 52428800', '250-STARTTLS', '250-AUTH PLAIN LOGIN', '250-ENHANCEDSTATUSCODES', '250 SMTPUTF8'];
    say('C: EHLO postdesk.local', ...caps.map((l) => 'S: ' + l));
    await step('ehlo', 60, caps.join('\n'));
    if (security !== 'none') {
      if (security === 'starttls') say('C: STARTTLS', 'S: 220 2.0.0 Ready to start TLS');
      await step('tls', 240, `TLSv1.3 TLS_AES_256_GCM_SHA384\ncertificate CN=${host}, issued by R11, valid until 2026-02-14`);
      say('C: EHLO postdesk.local', 'S: 250-' + host, 'S: 250-AUTH PLAIN LOGIN', 'S: 250 SMTPUTF8');
      await step('ehlo', 60, `250-${host}\n250-AUTH PLAIN LOGIN\n250 SMTPUTF8`);
    }
    if (auth === 'password') {
      say('C: AUTH PLAIN <redacted>', 'S: 235 2.7.0 Authentication successful');
      await step('auth', 150, `${get('global.username')}: 235 2.7.0 Authentication successful`);
    }
    say(`C: MAIL FROM:<${from}>`, 'S: 250 2.1.0 Ok');
    await step('mail_from', 40, `<${from}>: 250 2.1.0 Ok`);
    say(`C: RCPT TO:<${to}>`);
    if (to.includes('fail') || !to.includes('@')) {
      const reply = `550 5.1.1 <${to}>: Recipient address rejected: User unknown in virtual mailbox table`;
      say('S: ' + reply, 'C: QUIT', 'S: 221 2.0.0 Bye');
      await step('rcpt_to', 70, `<${to}>: ${reply}`, false);
      return report(
        'rcpt_to',
        reply,
        'The server does not accept mail for this recipient: check the address, or whether the server relays to other domains for this sender.',
      );
    }
    say('S: 250 2.1.5 Ok');
    await step('rcpt_to', 45, `<${to}>: 250 2.1.5 Ok`);
    say('C: DATA', 'S: 354 End data with <CR><LF>.<CR><LF>', 'C: <message, 612 bytes>', 'C: .', 'S: 250 2.0.0 Ok: queued as 4Xk2Lm0RzQz9sWN');
    await step('data', 210, '612 bytes\n250 2.0.0 Ok: queued as 4Xk2Lm0RzQz9sWN');
    say('C: QUIT', 'S: 221 2.0.0 Bye');
    await step('delivered', 0, `accepted for <${to}>`);
    return report(null, null, null);
  };

  return run().catch((e) => {
    if (e instanceof Cancelled) return report(current, 'Cancelled by the administrator.', 'Send the test again when ready.');
    throw e;
  });
}

export function createDemoBackend(): Backend {
  let demoAccount: string | null = null;
  const values: Record<string, string> = Object.fromEntries(
    FIELDS.filter((f) => f.control !== 'secret').map((f) => [f.key, '']),
  );
  Object.assign(values, {
    'global.enabled': 'true',
    'global.host': 'smtp.example.com',
    'global.port': '587',
    'global.security': 'starttls',
    'global.auth': 'password',
    'global.username': 'postdesk',
    'global.sender.address': 'it@example.com',
    'global.sender.name': 'Example IT',
  });
  const secrets: Record<string, boolean> = { 'global.password': true, 'global.m365.client_secret': false };
  let undo: { values: Record<string, string>; secrets: Record<string, boolean> } | null = null;

  const apply = (edits: Record<string, string>) => ({ ...values, ...Object.fromEntries(Object.entries(edits).map(([k, v]) => [k, v.trim()])) });
  const secretsAfter = (changes: SecretChange[]) => {
    const s = { ...secrets };
    for (const c of changes) s[c.key] = !!c.value;
    return s;
  };
  const form = (): Form => ({
    values: { ...values },
    defaults: { ...DEFAULTS },
    secrets: { ...secrets },
    problems: validate(values, secrets),
    config_path: '/home/demo/.config/postdesk/config.json (demo, not saved)',
    notice: null,
    keychain_error: null,
    redirect_uri: 'http://localhost/postdesk/callback',
    can_undo_import: undo !== null,
    receiver_ports: { imap: 143, 'imap-starttls': 143, imaps: 993, pop3: 110, 'pop3-stls': 110, pop3s: 995 },
  });
  const later = <T>(v: T) => new Promise<T>((r) => setTimeout(() => r(v), 60));
  let cancel = false;

  return {
    loadForm: () => later(form()),
    preview: (edits, changes) => later(validate(apply(edits), secretsAfter(changes))),
    save: async (edits, changes) => {
      const next = apply(edits);
      const s = secretsAfter(changes);
      const blocking = validate(next, s).filter((p) => p.severity !== 'warning');
      await later(null);
      if (blocking.length) {
        throw { message: blocking.map((p) => `${p.key}: ${p.message}`).join('\n'), problems: blocking };
      }
      Object.assign(values, next);
      Object.assign(secrets, s);
      return form();
    },
    testMail: (edits, changes, to, onProgress) => {
      cancel = false;
      return fakeTestMail(apply(edits), secretsAfter(changes), to, onProgress, () => cancel);
    },
    cancelTestMail: async () => {
      cancel = true;
    },
    receiverCheck: async (edits, changes, onProgress) => {
      const v = apply(edits);
      const s = secretsAfter(changes);
      const get = (k: string) => (v[k] ?? '') || (DEFAULTS[k] ?? '');
      const protocol = get('receiver.protocol') || 'imaps';
      const server: ServerSummary = { host: get('receiver.host'), port: 993, security: protocol, auth: 'password', source: 'receiver' };
      const steps: Step[] = [];
      const step = async (stage: Stage, ok: boolean, detail: string) => {
        onProgress({ kind: 'started', stage });
        await later(null);
        const done = mkStep(stage, ok, 60, detail);
        steps.push(done);
        onProgress({ kind: 'finished', step: done });
      };
      await step('config', true, `${protocol} ${server.host}:${server.port}`);
      await step('dns', true, '192.0.2.143');
      await step('connect', true, `192.0.2.143:${server.port}`);
      if (!s['receiver.password']) {
        await step('auth', false, 'NO [AUTHENTICATIONFAILED] Authentication failed.');
        return { ok: false, server, steps, failed_stage: 'auth', error: 'NO [AUTHENTICATIONFAILED] Authentication failed.', hint: 'Username or password not accepted by the mailbox server.', transcript: [] };
      }
      await step('auth', true, 'LOGIN: OK (demo)');
      return { ok: true, server, steps, failed_stage: null, error: null, hint: null, transcript: [] };
    },
    cancelReceiverCheck: async () => {},
    listPresets: () =>
      later<Preset[]>([
        {
          id: 'gmail',
          name: 'Gmail / Google Workspace',
          settings: { 'global.host': 'smtp.gmail.com', 'global.port': '587', 'global.security': 'starttls', 'global.auth': 'password' },
          variants: [
            { id: '587', label: 'Port 587 with STARTTLS', settings: { 'global.port': '587', 'global.security': 'starttls' } },
            { id: '465', label: 'Port 465 with TLS', settings: { 'global.port': '465', 'global.security': 'tls' } },
          ],
          todo: ['Create an app password (demo).'],
          advice: ['Port 25 is often blocked (demo).'],
        },
      ]),
    exportConfig: async (passphrase) => {
      await later(null);
      if (passphrase !== null && passphrase === '')
        throw { message: 'passphrase: the passphrase is empty', problems: [{ key: 'passphrase', severity: 'error', message: 'the passphrase is empty' }] };
      const path = '/home/demo/postdesk-config.json';
      console.info(`postdesk demo: would export to ${path}`, passphrase === null ? 'without secrets' : 'with encrypted secrets');
      return path;
    },
    // No native dialog in a browser: the demo asks for a file name ("bad" in it is invalid,
    // "secret" asks for a passphrase); the name is the token.
    chooseImport: async () => {
      if (typeof window.prompt !== 'function') return null;
      const name = window.prompt('Import which file (demo)', 'postdesk-config.json')?.trim();
      return name ? { token: name, name, needs_passphrase: demoFile(name).encrypted } : null;
    },
    openDropped: (id) => later({ token: id, name: id, needs_passphrase: demoFile(id).encrypted }),
    previewImport: async (path, passphrase) => {
      const file = await later(demoFile(path));
      checkDemoFile(file, passphrase);
      return previewOf(file, path);
    },
    applyImport: async (path, passphrase) => {
      const file = await later(demoFile(path));
      checkDemoFile(file, passphrase);
      undo = { values: { ...values }, secrets: { ...secrets } };
      Object.assign(values, file.values);
      if (file.encrypted) secrets['global.m365.client_secret'] = true;
      return form();
    },
    undoImport: async () => {
      await later(null);
      if (undo) {
        Object.assign(values, undo.values);
        Object.assign(secrets, undo.secrets);
        undo = null;
      }
      return form();
    },
    m365Status: async () => later({ account: demoAccount, error: null, hint: null }),
    m365SignIn: async () => {
      demoAccount = 'admin@contoso.example';
      return later({ account: demoAccount, error: null, hint: null });
    },
    m365SignOut: async () => {
      demoAccount = null;
      return later({ account: null, error: null, hint: null });
    },
  };

  /**
   * The demo's files: any path is a valid file that moves to Microsoft 365; "bad" in the name
   * makes it invalid, "secret" makes it carry encrypted secrets (any passphrase but "wrong…").
   */
  function demoFile(path: string) {
    return {
      bad: /bad/i.test(path),
      encrypted: /secret/i.test(path),
      values: {
        'global.auth': 'm365-smtp',
        'global.host': 'smtp.office365.com',
        'global.m365.tenant': 'contoso.onmicrosoft.com',
        'global.m365.client_id': '3fa85f64-5717-4562-b3fc-2c963f66afa6',
        'global.m365.flow': 'app',
        'global.username': '',
        'support.address': 'helpdesk@example.com',
      } as Record<string, string>,
    };
  }

  function checkDemoFile(file: ReturnType<typeof demoFile>, passphrase: string | null): void {
    if (file.bad) {
      const problems: Problem[] = [
        { key: 'global.port', severity: 'error', message: 'must be a whole number from 1 to 65535' },
        { key: 'global.sender.address', severity: 'error', message: 'is not an e-mail address (like it@example.com)' },
        { key: 'clients', severity: 'error', message: 'unknown key "clints"' },
      ];
      throw { message: problems.map((p) => `${p.key}: ${p.message}`).join('\n'), problems };
    }
    if (file.encrypted && (passphrase === null || /^wrong/i.test(passphrase))) {
      const message = passphrase === null ? 'the file carries encrypted secrets: give the passphrase' : 'wrong passphrase';
      throw { message: `secrets.encrypted: ${message}`, problems: [{ key: 'secrets.encrypted', severity: 'error', message }] };
    }
  }

  function previewOf(file: ReturnType<typeof demoFile>, token: string): ImportPreview {
    const changes: Change[] = [];
    for (const [key, v] of Object.entries(file.values)) {
      const old = values[key] ?? '';
      if (old === v) continue;
      changes.push({
        key,
        kind: old === '' ? 'added' : v === '' ? 'removed' : 'changed',
        old: old === '' ? null : old,
        new: v === '' ? null : v,
      });
    }
    if (file.encrypted) changes.push({ key: 'global.m365.client_secret', kind: 'secret_set', old: null, new: null });
    return {
      changes,
      secrets_missing: file.encrypted ? [] : ['global.m365.client_secret'],
      encrypted_secrets: file.encrypted,
      redirects: [],
      token,
    };
  }
}
