import type { Form } from '../lib/bindings/Form';
import type { ImportPreview } from '../lib/bindings/ImportPreview';
import type { Report } from '../lib/bindings/Report';
import type { Stage } from '../lib/bindings/Stage';
import type { Step } from '../lib/bindings/Step';
import { FIELDS } from '../lib/fields';

export const DEFAULTS: Record<string, string> = {
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
  'receiver.enabled': 'false',
  'receiver.protocol': 'imaps',
  'receiver.before_send': 'false',
};

export const RECEIVER_PORTS: Record<string, number> = { imap: 143, 'imap-starttls': 143, imaps: 993, pop3: 110, 'pop3-stls': 110, pop3s: 995 };

/** A Form as `load_form` returns it: every non-secret key present, `""` when unset. */
export function makeForm(values: Record<string, string> = {}, over: Partial<Form> = {}): Form {
  const all = Object.fromEntries(FIELDS.filter((f) => f.control !== 'secret').map((f) => [f.key, '']));
  return {
    values: { ...all, ...values },
    defaults: { ...DEFAULTS },
    secrets: { 'global.password': false, 'global.m365.client_secret': false, 'receiver.password': false },
    problems: [],
    config_path: '/home/admin/.config/postdesk/config.json',
    notice: null,
    keychain_error: null,
    redirect_uri: 'http://localhost/postdesk/callback',
    can_undo_import: false,
    receiver_ports: { ...RECEIVER_PORTS },
    ...over,
  };
}

/** A step as the backend sends it: serde writes the `u64` as a JSON number (ts-rs says bigint). */
export function step(stage: Stage, ok: boolean, ms: number, detail: string): Step {
  return { stage, ok, ms: ms as unknown as bigint, detail };
}

/** A test refused at RCPT TO, with EHLO twice (before and after STARTTLS). */
export const failedReport: Report = {
  ok: false,
  server: { host: 'smtp.example.com', port: 587, security: 'starttls', auth: 'password', source: 'global' },
  steps: [
    step('config', true, 0, 'global server smtp.example.com:587'),
    step('dns', true, 3, 'smtp.example.com → 192.0.2.25'),
    step('connect', true, 12, '192.0.2.25:587'),
    step('banner', true, 40, '220 smtp.example.com ESMTP'),
    step('ehlo', true, 5, '250-smtp.example.com\n250-STARTTLS\n250 SMTPUTF8'),
    step('tls', true, 230, 'TLSv1.3'),
    step('ehlo', true, 6, '250-smtp.example.com\n250 AUTH PLAIN LOGIN'),
    step('auth', true, 150, 'mailer: 235 2.7.0 Authentication successful'),
    step('mail_from', true, 4, '<it@example.com>: 250 2.1.0 Ok'),
    step('rcpt_to', false, 70, '<nobody@example.org>: 550 5.1.1 User unknown'),
  ],
  failed_stage: 'rcpt_to',
  error: '550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown',
  hint: 'Check the recipient address.',
  transcript: [
    'S: 220 smtp.example.com ESMTP',
    'C: EHLO postdesk.local',
    'S: 250-smtp.example.com',
    'C: AUTH PLAIN <redacted>',
    'S: 235 2.7.0 Authentication successful',
    'C: RCPT TO:<nobody@example.org>',
    'S: 550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown',
  ],
};

export const deliveredReport: Report = {
  ok: true,
  server: { host: 'smtp.example.com', port: 587, security: 'starttls', auth: 'password', source: 'global' },
  steps: [step('connect', true, 12, '192.0.2.25:587'), step('data', true, 210, '250 2.0.0 Ok: queued'), step('delivered', true, 0, '')],
  failed_stage: null,
  error: null,
  hint: null,
  transcript: ['C: DATA', 'S: 250 2.0.0 Ok: queued'],
};

/** An import preview as `preview_import` returns it. */
export const importPreview: ImportPreview = {
  changes: [
    { key: 'support.address', kind: 'added', old: null, new: 'help@example.com' },
    { key: 'global.port', kind: 'changed', old: '587', new: '465' },
    { key: 'global.host', kind: 'changed', old: 'smtp.example.com', new: 'mail.example.org' },
    { key: 'global.username', kind: 'removed', old: 'mailer', new: null },
    { key: 'global.password', kind: 'secret_set', old: null, new: null },
  ],
  secrets_missing: ['global.m365.client_secret'],
  encrypted_secrets: true,
  redirects: [],
  locked: [],
  token: 'office-token',
};
